"""The replicated state machine: the znode tree and the live sessions, changed only by applying txns.

Raft replicates txns; each replica applies them here in log order. Applying is
a pure function of the state and the txn, so equal logs give equal states, and
a snapshot taken after any txn restores to a state that continues identically.
"""

from __future__ import annotations

import base64
import json
from dataclasses import astuple, dataclass
from typing import Union

from cluster.keeper.errors import ErrorCode
from cluster.keeper.paths import ROOT, name_of, parent_of
from cluster.keeper.transactions import (
    CheckTxn,
    CloseSessionTxn,
    CreateSessionTxn,
    CreateTxn,
    DeleteTxn,
    ErrorTxn,
    MultiOp,
    MultiTxn,
    SetDataTxn,
    Txn,
)
from cluster.keeper.tree import Change, DataTree, Stat, Znode


@dataclass(frozen=True)
class Created:
    """ZooKeeper's create2 answer: the actual path (sequential nodes get a suffix) and the new stat."""

    path: str
    stat: Stat


@dataclass(frozen=True)
class SessionCreated:
    session_id: int
    timeout_ms: int


OpResult = Union[Created, Stat, ErrorCode]
"""create -> Created, setData -> Stat, delete and check -> OK, a refusal -> its code."""

Result = Union[OpResult, tuple[OpResult, ...], SessionCreated]


@dataclass(frozen=True)
class Applied:
    """What applying one txn produced: the client's answer and the watch triggers, in order."""

    zxid: int
    result: Result
    changes: tuple[Change, ...]


class Replica:
    def __init__(self) -> None:
        self.tree = DataTree()
        self.sessions: dict[int, int] = {}
        """Live session id -> negotiated timeout (ms)."""
        self.last_zxid = 0

    def apply(self, txn: Txn) -> Applied:
        if txn.zxid <= self.last_zxid:
            raise ValueError(f"txn {txn.zxid} applied after {self.last_zxid}: zxids must increase")
        changes: list[Change] = []
        result = self._apply_body(txn, changes)
        self.last_zxid = txn.zxid
        return Applied(txn.zxid, result, tuple(changes))

    def _apply_body(self, txn: Txn, changes: list[Change]) -> Result:
        body = txn.body
        if isinstance(body, MultiTxn):
            if body.failed:
                return tuple(op.code if isinstance(op, ErrorTxn) else ErrorCode.OK for op in body.ops)
            return tuple(self._apply_op(op, txn, changes) for op in body.ops)
        if isinstance(body, CreateSessionTxn):
            self.sessions[body.session_id] = body.timeout_ms
            return SessionCreated(body.session_id, body.timeout_ms)
        if isinstance(body, CloseSessionTxn):
            for path in self.tree.ephemerals(body.session_id):
                changes += self.tree.delete(path, txn.zxid)
            del self.sessions[body.session_id]
            return ErrorCode.OK
        return self._apply_op(body, txn, changes)

    def _apply_op(self, op: MultiOp, txn: Txn, changes: list[Change]) -> OpResult:
        if isinstance(op, CreateTxn):
            changes += self.tree.create(op.path, op.data, op.ephemeral_owner, txn.zxid, txn.time_ms)
            return Created(op.path, self._stat(op.path))
        if isinstance(op, DeleteTxn):
            changes += self.tree.delete(op.path, txn.zxid)
            return ErrorCode.OK
        if isinstance(op, SetDataTxn):
            changes += self.tree.set_data(op.path, op.data, txn.zxid, txn.time_ms)
            return self._stat(op.path)
        if isinstance(op, CheckTxn):
            return ErrorCode.OK
        return op.code

    def _stat(self, path: str) -> Stat:
        node = self.tree.get(path)
        assert node is not None
        return node.stat()

    def snapshot(self) -> bytes:
        """The whole replicated state as canonical bytes: equal states give equal bytes."""
        nodes = [
            [path, base64.b64encode(node.data).decode(), _stored_stat(node)]
            for path, node in self.tree.items()
        ]
        sessions = sorted(self.sessions.items())
        document = {"last_zxid": self.last_zxid, "sessions": sessions, "nodes": nodes}
        return json.dumps(document, separators=(",", ":")).encode()

    @classmethod
    def restore(cls, raw: bytes) -> Replica:
        document = json.loads(raw)
        nodes: dict[str, Znode] = {}
        for path, data, stat in document["nodes"]:
            nodes[path] = Znode(base64.b64decode(data), *stat)
        for path in nodes:
            if path != ROOT:
                nodes[parent_of(path)].children.add(name_of(path))
        replica = cls()
        replica.tree = DataTree(nodes)
        replica.sessions = {session_id: timeout for session_id, timeout in document["sessions"]}
        replica.last_zxid = document["last_zxid"]
        return replica

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Replica) and self.snapshot() == other.snapshot()


def _stored_stat(node: Znode) -> list[int]:
    """The stat fields and sequence counter a node stores, in Znode's field order; the rest is derived."""
    return list(astuple(node)[1:-1])
