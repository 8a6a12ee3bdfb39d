"""The small replicated state machine the simulated clients use: a map of registers.

Writes go through the Raft log as commands; reads never do (they use read-index).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Put:
    op_id: str
    key: int
    value: int

    def encode(self) -> bytes:
        return f"{self.op_id} {self.key} {self.value}".encode()

    @staticmethod
    def decode(data: bytes) -> Put:
        op_id, key, value = data.decode().split()
        return Put(op_id, int(key), int(value))


class KVStore:
    def __init__(self, values: dict[int, int] | None = None) -> None:
        self.values = dict(values or {})

    @staticmethod
    def from_snapshot(data: bytes) -> KVStore:
        return KVStore({int(k): v for k, v in json.loads(data).items()} if data else {})

    def snapshot(self) -> bytes:
        return json.dumps(self.values, sort_keys=True).encode()

    def apply(self, command: bytes) -> Put:
        put = Put.decode(command)
        self.values[put.key] = put.value
        return put

    def get(self, key: int) -> int | None:
        return self.values.get(key)
