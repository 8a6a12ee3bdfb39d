"""Txns: what the leader's prepare step decided, in the form every replica applies.

A txn names its exact effect (the final path of a sequential node, the owner of
an ephemeral, the error of a refused request), so applying it needs no choice:
replicas that apply the same txns in the same order end in the same state.
Refused writes are txns too (ErrorTxn), as in ZooKeeper: the client learns the
refusal only once it is committed, so it never hears an error that rests on a
write a lost leader had not yet committed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, fields
from typing import Any, Union

from cluster.keeper.errors import ErrorCode


@dataclass(frozen=True)
class CreateTxn:
    path: str
    data: bytes
    ephemeral_owner: int
    """The owning session for an ephemeral node, else 0."""


@dataclass(frozen=True)
class DeleteTxn:
    path: str


@dataclass(frozen=True)
class SetDataTxn:
    path: str
    data: bytes


@dataclass(frozen=True)
class CheckTxn:
    """A version check inside a multi that held: it changes nothing."""

    path: str


@dataclass(frozen=True)
class ErrorTxn:
    code: ErrorCode


MultiOp = Union[CreateTxn, DeleteTxn, SetDataTxn, CheckTxn, ErrorTxn]


@dataclass(frozen=True)
class MultiTxn:
    """All ops succeed together, or every op is an ErrorTxn and nothing changes.

    A refused multi carries ZooKeeper's per-op codes: OK for the ops before the
    failing one, its error, RUNTIMEINCONSISTENCY for the ops after it.
    """

    ops: tuple[MultiOp, ...]

    @property
    def failed(self) -> bool:
        return any(isinstance(op, ErrorTxn) for op in self.ops)


@dataclass(frozen=True)
class CreateSessionTxn:
    session_id: int
    timeout_ms: int


@dataclass(frozen=True)
class CloseSessionTxn:
    """A client's close or the leader's expiry: the session and its ephemerals go."""

    session_id: int


TxnBody = Union[CreateTxn, DeleteTxn, SetDataTxn, CheckTxn, ErrorTxn, MultiTxn, CreateSessionTxn, CloseSessionTxn]


@dataclass(frozen=True)
class Txn:
    zxid: int
    time_ms: int
    """The leader's clock when it prepared the txn: ctime and mtime come from here."""
    session_id: int
    body: TxnBody


_BODY_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (CreateTxn, DeleteTxn, SetDataTxn, CheckTxn, ErrorTxn, MultiTxn, CreateSessionTxn, CloseSessionTxn)
}


def encode_txn(txn: Txn) -> bytes:
    """The bytes that go into the Raft log."""
    document = {"zxid": txn.zxid, "time_ms": txn.time_ms, "session_id": txn.session_id, "body": _encode_body(txn.body)}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def decode_txn(raw: bytes) -> Txn:
    document = json.loads(raw)
    return Txn(document["zxid"], document["time_ms"], document["session_id"], _decode_body(document["body"]))


def _encode_body(body: TxnBody) -> dict[str, Any]:
    encoded: dict[str, Any] = {"type": type(body).__name__}
    for spec in fields(body):
        value = getattr(body, spec.name)
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        elif isinstance(value, tuple):
            value = [_encode_body(op) for op in value]
        encoded[spec.name] = value
    return encoded


def _decode_body(encoded: dict[str, Any]) -> TxnBody:
    cls = _BODY_TYPES[encoded["type"]]
    values: dict[str, Any] = {}
    for spec in fields(cls):
        value = encoded[spec.name]
        if spec.type == "bytes":
            value = base64.b64decode(value)
        elif spec.type == "ErrorCode":
            value = ErrorCode(value)
        elif isinstance(value, list):
            value = tuple(_decode_body(op) for op in value)
        values[spec.name] = value
    return cls(**values)
