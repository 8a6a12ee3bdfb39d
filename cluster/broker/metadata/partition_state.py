"""One partition's leadership record, as Kafka keeps it in /brokers/topics/<t>/partitions/<p>/state.

The znode's data is Kafka's JSON ({"controller_epoch", "leader", "version",
"leader_epoch", "isr"}); the znode's version is not in the JSON but travels with
the state, because every change is a write conditional on it: whoever read an
older version loses the race and must read again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from cluster.broker.metadata import znode_json

NO_LEADER = -1
"""Kafka's LeaderAndIsr.NoLeader: the partition is offline."""

UNWRITTEN = -1
"""The version of a state that has no znode yet: the write that stores it must create it."""

_FORMAT_VERSIONS = (1, 2)  # 2 adds leader_recovery_state (KIP-704), which we read and never write


class PartitionStateError(znode_json.ZnodeError):
    """The znode holds something that is not a partition state."""


@dataclass(frozen=True)
class PartitionState:
    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    controller_epoch: int
    version: int = UNWRITTEN
    """The znode version this state was read at, or the one a derived state expects to replace."""

    def __post_init__(self) -> None:
        if self.leader < NO_LEADER or self.leader_epoch < 0 or self.controller_epoch < 0 or self.version < UNWRITTEN:
            raise PartitionStateError(f"impossible partition state {self}")
        if not self.isr or len(set(self.isr)) != len(self.isr) or min(self.isr) < 0:
            raise PartitionStateError(f"the ISR must be distinct broker ids, at least one, got {list(self.isr)}")

    @property
    def online(self) -> bool:
        return self.leader != NO_LEADER

    def changed(self, leader: int, isr: Iterable[int], controller_epoch: int) -> PartitionState:
        """The state a writer proposes; a new leader (offline counts) starts a new leader epoch."""
        epoch = self.leader_epoch + 1 if leader != self.leader else self.leader_epoch
        return replace(self, leader=leader, leader_epoch=epoch, isr=tuple(isr), controller_epoch=controller_epoch)

    def stored(self, version: int) -> PartitionState:
        return replace(self, version=version)

    def to_json(self) -> bytes:
        record = {
            "controller_epoch": self.controller_epoch,
            "leader": self.leader,
            "version": 1,
            "leader_epoch": self.leader_epoch,
            "isr": list(self.isr),
        }
        return znode_json.dump(record)

    @classmethod
    def from_json(cls, data: bytes, version: int) -> PartitionState:
        record = znode_json.load(data)
        if record.get("version") not in _FORMAT_VERSIONS:
            raise PartitionStateError(f"unknown partition state format version {record.get('version')!r}")
        isr = record.get("isr")
        if not isinstance(isr, list) or not all(znode_json.is_int(item) for item in isr):
            raise PartitionStateError(f"partition state isr must be a list of broker ids, got {isr!r}")
        fields = {name: record.get(name) for name in ("leader", "leader_epoch", "controller_epoch")}
        for name, value in fields.items():
            if not znode_json.is_int(value):
                raise PartitionStateError(f"partition state {name} must be an integer, got {value!r}")
        return cls(isr=tuple(isr), version=version, **fields)  # type: ignore[arg-type]

