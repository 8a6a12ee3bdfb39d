"""Random writes, multis, pipelined prepares and session lifecycles against a plain model.

A leader prepares and applies; a follower applies the same txn bytes; a third
replica is restored from a snapshot now and then and applies what follows.
All three must stay equal, and every answer must be the model's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cluster.keeper.errors import ErrorCode
from cluster.keeper.paths import parent_of
from cluster.keeper.prepare import Preparer
from cluster.keeper.replica import Created, Replica, Result, SessionCreated
from cluster.keeper.requests import Check, CloseSession, Create, CreateSession, Delete, Multi, MultiRequestOp, SetData
from cluster.keeper.sessions import SessionTracker
from cluster.keeper.transactions import decode_txn, encode_txn
from cluster.keeper.tree import Stat

ClientWrite = MultiRequestOp | Multi | CloseSession
"""What a session may send once it exists."""

POOL = ["/a", "/b", "/a/x", "/a/y", "/b/z", "/a/x/q", "/a/"]
TICK_MS = 100


@dataclass
class ModelNode:
    data: bytes
    version: int
    owner: int
    created_children: int = 0
    child_changes: int = 0


class Model:
    """The tree as a dict of paths, with ZooKeeper's rules spelled out plainly."""

    def __init__(self) -> None:
        self.nodes = {"/": ModelNode(b"", 0, 0, 0, -1)}
        self.sessions: set[int] = set()

    def write(self, request: ClientWrite, session: int) -> object:
        if session not in self.sessions:
            return ErrorCode.SESSIONEXPIRED
        if not isinstance(request, Multi):
            return self._op(request, session)
        trial = copy.deepcopy(self.nodes)
        results: list[object] = []
        for index, op in enumerate(request.ops):
            result = self._op(op, session)
            if isinstance(result, ErrorCode) and result is not ErrorCode.OK:
                self.nodes = trial
                rest = len(request.ops) - index - 1
                return (ErrorCode.OK,) * index + (result,) + (ErrorCode.RUNTIMEINCONSISTENCY,) * rest
            results.append(result)
        return tuple(results)

    def _op(self, op: MultiRequestOp | CloseSession, session: int) -> object:
        if isinstance(op, CloseSession):
            for path in [p for p, node in self.nodes.items() if node.owner == session]:
                self._remove(path)
            self.sessions.discard(session)
            return ErrorCode.OK
        if isinstance(op, Create):
            return self._create(op, session)
        if op.path.endswith("/"):
            return ErrorCode.BADARGUMENTS
        node = self.nodes.get(op.path)
        if node is None:
            return ErrorCode.NONODE
        if op.version not in (-1, node.version):
            return ErrorCode.BADVERSION
        if isinstance(op, SetData):
            node.data, node.version = op.data, node.version + 1
            return ("stat", op.data, node.version)
        if isinstance(op, Delete):
            if any(parent_of(p) == op.path for p in self.nodes if p != "/"):
                return ErrorCode.NOTEMPTY
            self._remove(op.path)
        return ErrorCode.OK

    def _create(self, op: Create, session: int) -> object:
        if op.path.endswith("/") and not op.sequential:
            return ErrorCode.BADARGUMENTS
        parent = self.nodes.get(parent_of(op.path))
        if parent is None:
            return ErrorCode.NONODE
        path = op.path + f"{parent.created_children:010d}" if op.sequential else op.path
        if path in self.nodes:
            return ErrorCode.NODEEXISTS
        if parent.owner:
            return ErrorCode.NOCHILDRENFOREPHEMERALS
        parent.created_children += 1
        parent.child_changes += 1
        self.nodes[path] = ModelNode(op.data, 0, session if op.ephemeral else 0)
        return path

    def _remove(self, path: str) -> None:
        del self.nodes[path]
        self.nodes[parent_of(path)].child_changes += 1


def _comparable(result: Result) -> object:
    """The replica's answer in the model's terms: the stat's data is checked against the tree."""
    if isinstance(result, tuple):
        return tuple(_comparable(item) for item in result)
    if isinstance(result, Created):
        return result.path
    if isinstance(result, Stat):
        return ("stat", None, result.version)
    return result


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, tuple) and expected and expected[0] == "stat":
        return actual == ("stat", None, expected[2])
    if isinstance(expected, tuple):
        return isinstance(actual, tuple) and len(actual) == len(expected) and all(map(_same, actual, expected))
    return actual == expected


paths = st.sampled_from(POOL)
versions = st.sampled_from([-1, -1, 0, 1, 2])
data = st.binary(max_size=3)
ops = st.one_of(
    st.builds(Create, paths, data, st.booleans(), st.booleans()),
    st.builds(Delete, paths, versions),
    st.builds(SetData, paths, data, versions),
    st.builds(Check, paths, versions),
)


class KeeperMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.leader = Replica()
        self.follower = Replica()
        self.restored = Replica()
        self.preparer = Preparer(self.leader)
        self.tracker = SessionTracker(TICK_MS)
        self.model = Model()
        self.now_ms = 0
        self.live: list[int] = []

    def _apply(self, raw: bytes) -> Result:
        txn = decode_txn(raw)
        applied = self.leader.apply(txn)
        self.preparer.applied(txn.zxid)
        assert self.follower.apply(decode_txn(raw)) == applied
        assert self.restored.apply(decode_txn(raw)) == applied
        return applied.result

    def _write_all(self, requests: list[tuple[ClientWrite, int]]) -> None:
        """Prepares every request before applying any, as a leader does while earlier txns await commit."""
        log = [encode_txn(self.preparer.prepare(request, session, self.now_ms)) for request, session in requests]
        for (request, session), raw in zip(requests, log):
            result = self._apply(raw)
            expected = self.model.write(request, session)
            assert _same(_comparable(result), expected), (request, result, expected)
            if isinstance(request, CloseSession) and result is ErrorCode.OK:
                self.tracker.forget(session)
                self.live.remove(session)
            elif session in self.live:
                self.tracker.touch(session, self.now_ms)

    @rule(timeout=st.integers(2 * TICK_MS, 20 * TICK_MS))
    def open_session(self, timeout: int) -> None:
        created = self._apply(encode_txn(self.preparer.prepare(CreateSession(timeout), 0, self.now_ms)))
        assert isinstance(created, SessionCreated)
        self.model.sessions.add(created.session_id)
        self.tracker.track(created.session_id, timeout, self.now_ms)
        self.live.append(created.session_id)

    def _session(self, pick: st.DataObject) -> int:
        return pick.draw(st.sampled_from(self.live + [999_999]))

    @precondition(lambda self: self.live)
    @rule(pick=st.data(), op=ops)
    def write(self, pick: st.DataObject, op: MultiRequestOp) -> None:
        self._write_all([(op, self._session(pick))])

    @precondition(lambda self: self.live)
    @rule(pick=st.data(), multi=st.lists(ops, max_size=4))
    def multi(self, pick: st.DataObject, multi: list[MultiRequestOp]) -> None:
        self._write_all([(Multi(tuple(multi)), self._session(pick))])

    @precondition(lambda self: self.live)
    @rule(pick=st.data(), batch=st.lists(st.one_of(ops, st.just(CloseSession())), min_size=2, max_size=5))
    def pipelined(self, pick: st.DataObject, batch: list[MultiRequestOp | CloseSession]) -> None:
        self._write_all([(request, self._session(pick)) for request in batch])

    @precondition(lambda self: self.live)
    @rule(pick=st.data())
    def close_session(self, pick: st.DataObject) -> None:
        self._write_all([(CloseSession(), self._session(pick))])

    @rule(elapsed=st.integers(0, 10 * TICK_MS))
    def time_passes(self, elapsed: int) -> None:
        """The leader expires silent sessions by proposing their closeSession, like any other write."""
        self.now_ms += elapsed
        self._write_all([(CloseSession(), session) for session in self.tracker.expired(self.now_ms)])

    @rule()
    def restore_from_snapshot(self) -> None:
        self.restored = Replica.restore(self.leader.snapshot())

    @invariant()
    def replicas_agree_with_each_other_and_the_model(self) -> None:
        assert self.follower == self.leader and self.restored == self.leader
        tree = {path: node for path, node in self.leader.tree.items() if not path.startswith("/zookeeper")}
        assert sorted(tree) == sorted(self.model.nodes)
        for path, node in tree.items():
            expected = self.model.nodes[path]
            assert (node.data, node.version, node.ephemeral_owner) == (expected.data, expected.version, expected.owner)
            assert node.sequence == expected.created_children and node.cversion == expected.child_changes

    @invariant()
    def children_counts_and_zxids_are_consistent(self) -> None:
        for path, node in self.leader.tree.items():
            children = [self.leader.tree.get(f"{path.rstrip('/')}/{name}") for name in node.children]
            assert node.stat().num_children == len(children) and all(children)
            assert node.czxid <= node.mzxid <= self.leader.last_zxid
            assert node.czxid <= node.pzxid <= self.leader.last_zxid
            assert all(child.czxid <= node.pzxid for child in children if child)

    @invariant()
    def no_ephemeral_outlives_its_session(self) -> None:
        for path, node in self.leader.tree.items():
            assert node.ephemeral_owner == 0 or node.ephemeral_owner in self.leader.sessions, path


KeeperMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_keeper_state_machine = KeeperMachine.TestCase
