"""The leader's prepare step: a client's write request plus the current state becomes a txn.

Like ZooKeeper's PrepRequestProcessor, the leader prepares request N+1 before
txn N is committed, so it validates against the applied state overlaid with the
effects of its own prepared-but-unapplied txns. The overlay keeps only what
validation reads (versions, sequence counters, child counts, ephemeral owners,
live sessions); each entry leaves when the replica applies the txn that wrote it.

Start a Preparer only on a replica that has applied its whole log, so that
its zxids continue above every txn it might still see applied; a deposed
leader drops its Preparer, pending overlay and all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.paths import ROOT, parent_of, validate_path
from cluster.keeper.replica import Replica
from cluster.keeper.requests import (
    ANY_VERSION,
    CloseSession,
    Create,
    CreateSession,
    Delete,
    Multi,
    MultiRequestOp,
    SetData,
    WriteRequest,
)
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
    TxnBody,
)


@dataclass(frozen=True)
class NodeRecord:
    """The part of a znode that validation reads."""

    version: int
    sequence: int
    num_children: int
    ephemeral_owner: int


class Preparer:
    def __init__(self, replica: Replica) -> None:
        self._replica = replica
        self._last_zxid = replica.last_zxid
        self._pending_nodes: dict[str, tuple[int, NodeRecord | None]] = {}
        self._pending_sessions: dict[int, tuple[int, bool]] = {}

    def prepare(self, request: WriteRequest, session_id: int, now_ms: int) -> Txn:
        """The txn to propose; a refused request becomes an ErrorTxn (or a failed MultiTxn)."""
        zxid = self._last_zxid + 1
        draft = _Draft(self, zxid)
        try:
            body = draft.body_for(request, session_id)
        except KeeperError as error:
            body = ErrorTxn(error.code)
            draft.discard()
        self._last_zxid = zxid
        for path, record in draft.nodes.items():
            self._pending_nodes[path] = (zxid, record)
        for sid, alive in draft.sessions.items():
            self._pending_sessions[sid] = (zxid, alive)
        return Txn(zxid, now_ms, session_id, body)

    def applied(self, zxid: int) -> None:
        """The replica applied txns up to `zxid`: their effects are in the tree now, not pending."""
        self._pending_nodes = {p: e for p, e in self._pending_nodes.items() if e[0] > zxid}
        self._pending_sessions = {s: e for s, e in self._pending_sessions.items() if e[0] > zxid}

    def node(self, path: str) -> NodeRecord | None:
        if path in self._pending_nodes:
            return self._pending_nodes[path][1]
        znode = self._replica.tree.get(path)
        if znode is None:
            return None
        return NodeRecord(znode.version, znode.sequence, len(znode.children), znode.ephemeral_owner)

    def session_alive(self, session_id: int) -> bool:
        if session_id in self._pending_sessions:
            return self._pending_sessions[session_id][1]
        return session_id in self._replica.sessions

    def ephemeral_candidates(self, session_id: int) -> set[str]:
        """Paths that are or were lately owned by the session; the caller checks which still are."""
        pending = {p for p, (_, r) in self._pending_nodes.items() if r is not None and r.ephemeral_owner == session_id}
        return pending | set(self._replica.tree.ephemerals(session_id))


class _Draft:
    """One request's changes, read through before the pending overlay and kept only if the request succeeds."""

    def __init__(self, preparer: Preparer, zxid: int) -> None:
        self._preparer = preparer
        self._zxid = zxid
        self.nodes: dict[str, NodeRecord | None] = {}
        self.sessions: dict[int, bool] = {}

    def discard(self) -> None:
        self.nodes.clear()
        self.sessions.clear()

    def node(self, path: str) -> NodeRecord | None:
        if path in self.nodes:
            return self.nodes[path]
        return self._preparer.node(path)

    def existing(self, path: str) -> NodeRecord:
        record = self.node(path)
        if record is None:
            raise KeeperError(ErrorCode.NONODE, path)
        return record

    def body_for(self, request: WriteRequest, session_id: int) -> TxnBody:
        if isinstance(request, CreateSession):
            self.sessions[self._zxid] = True
            return CreateSessionTxn(self._zxid, request.timeout_ms)
        if not self._preparer.session_alive(session_id):
            raise KeeperError(ErrorCode.SESSIONEXPIRED)
        if isinstance(request, CloseSession):
            return self._close_session(session_id)
        if isinstance(request, Multi):
            return self._multi(request, session_id)
        return self.op(request, session_id)

    def op(self, request: MultiRequestOp, session_id: int) -> MultiOp:
        if isinstance(request, Create):
            return self._create(request, session_id)
        if isinstance(request, Delete):
            return self._delete(request)
        if isinstance(request, SetData):
            validate_path(request.path)
            record = self._checked_version(request.path, request.version)
            self.nodes[request.path] = replace(record, version=record.version + 1)
            return SetDataTxn(request.path, request.data)
        validate_path(request.path)
        self._checked_version(request.path, request.version)
        return CheckTxn(request.path)

    def _create(self, request: Create, session_id: int) -> CreateTxn:
        validate_path(request.path, request.sequential)
        parent_path = parent_of(request.path)
        parent = self.existing(parent_path)
        path = request.path + f"{parent.sequence:010d}" if request.sequential else request.path
        validate_path(path)
        if self.node(path) is not None:
            raise KeeperError(ErrorCode.NODEEXISTS, path)
        if parent.ephemeral_owner:
            raise KeeperError(ErrorCode.NOCHILDRENFOREPHEMERALS, path)
        owner = session_id if request.ephemeral else 0
        self.nodes[parent_path] = replace(parent, sequence=parent.sequence + 1, num_children=parent.num_children + 1)
        self.nodes[path] = NodeRecord(0, 0, 0, owner)
        return CreateTxn(path, request.data, owner)

    def _delete(self, request: Delete) -> DeleteTxn:
        validate_path(request.path)
        if request.path == ROOT:
            raise KeeperError(ErrorCode.BADARGUMENTS, request.path)
        record = self._checked_version(request.path, request.version)
        if record.num_children:
            raise KeeperError(ErrorCode.NOTEMPTY, request.path)
        self._remove(request.path)
        return DeleteTxn(request.path)

    def _remove(self, path: str) -> None:
        parent_path = parent_of(path)
        parent = self.existing(parent_path)
        self.nodes[parent_path] = replace(parent, num_children=parent.num_children - 1)
        self.nodes[path] = None

    def _checked_version(self, path: str, version: int) -> NodeRecord:
        record = self.existing(path)
        if version != ANY_VERSION and version != record.version:
            raise KeeperError(ErrorCode.BADVERSION, path)
        return record

    def _multi(self, request: Multi, session_id: int) -> MultiTxn:
        ops: list[MultiOp] = []
        for index, op in enumerate(request.ops):
            try:
                ops.append(self.op(op, session_id))
            except KeeperError as error:
                self.discard()
                after = len(request.ops) - index - 1
                codes = [ErrorCode.OK] * index + [error.code] + [ErrorCode.RUNTIMEINCONSISTENCY] * after
                return MultiTxn(tuple(ErrorTxn(code) for code in codes))
        return MultiTxn(tuple(ops))

    def _close_session(self, session_id: int) -> CloseSessionTxn:
        owned = [p for p in self._preparer.ephemeral_candidates(session_id) if self._owner(p) == session_id]
        for path in sorted(owned):
            self._remove(path)
        self.sessions[session_id] = False
        return CloseSessionTxn(session_id)

    def _owner(self, path: str) -> int:
        record = self.node(path)
        return 0 if record is None else record.ephemeral_owner
