"""The tree's semantics through prepare -> encode -> decode -> apply, as a replica sees them."""

from __future__ import annotations

from typing import Hashable

import pytest

from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.prepare import Preparer
from cluster.keeper.reads import Reader
from cluster.keeper.replica import Created, Replica, Result
from cluster.keeper.requests import Check, CloseSession, Create, CreateSession, Delete, Multi, SetData, WriteRequest
from cluster.keeper.transactions import Txn, decode_txn, encode_txn
from cluster.keeper.tree import Change, Stat
from cluster.keeper.watches import WatchManager


class Keeper:
    """One server that is its own leader: every write is prepared, logged as bytes and applied at once."""

    def __init__(self) -> None:
        self.replica = Replica()
        self.preparer = Preparer(self.replica)
        self.watches = WatchManager()
        self.reader = Reader(self.replica, self.watches)
        self.now_ms = 1_000
        self.log: list[bytes] = []
        self.notifications: list[tuple[Hashable, Change]] = []

    def session(self, timeout_ms: int = 10_000) -> int:
        result = self.write(CreateSession(timeout_ms), session_id=0)
        return result.session_id  # type: ignore[union-attr]

    def write(self, request: WriteRequest, session_id: int) -> Result:
        return self.commit(self.preparer.prepare(request, session_id, self.now_ms))

    def commit(self, txn: Txn) -> Result:
        self.log.append(encode_txn(txn))
        applied = self.replica.apply(decode_txn(self.log[-1]))
        self.preparer.applied(applied.zxid)
        self.notifications += self.watches.trigger(applied.changes)
        return applied.result

    def stat(self, path: str) -> Stat:
        return self.reader.get_data(path).stat


@pytest.fixture
def keeper() -> Keeper:
    return Keeper()


@pytest.fixture
def session(keeper: Keeper) -> int:
    return keeper.session()


def test_create_sets_every_stat_field_from_its_txn(keeper: Keeper, session: int) -> None:
    keeper.now_ms = 5_000
    created = keeper.write(Create("/a", b"hello"), session)
    zxid = keeper.replica.last_zxid
    assert created == Created("/a", Stat(zxid, zxid, 5_000, 5_000, 0, 0, 0, 0, 5, 0, zxid))
    assert keeper.reader.get_data("/a").data == b"hello"


def test_create_updates_parent_cversion_pzxid_and_children_but_not_its_version(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/p"), session)
    keeper.write(Create("/p/c"), session)
    zxid = keeper.replica.last_zxid
    parent = keeper.stat("/p")
    assert (parent.cversion, parent.num_children, parent.pzxid, parent.version, parent.mzxid) == (1, 1, zxid, 0, zxid - 1)


def test_delete_counts_in_parent_cversion_and_moves_pzxid(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/p"), session)
    keeper.write(Create("/p/c"), session)
    assert keeper.write(Delete("/p/c"), session) is ErrorCode.OK
    parent = keeper.stat("/p")
    assert (parent.cversion, parent.num_children, parent.pzxid) == (2, 0, keeper.replica.last_zxid)


def test_set_data_bumps_version_mzxid_mtime_and_data_length(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/a", b"x"), session)
    keeper.now_ms = 9_000
    stat = keeper.write(SetData("/a", b"four", version=0), session)
    assert isinstance(stat, Stat)
    assert (stat.version, stat.mzxid, stat.mtime, stat.data_length) == (1, keeper.replica.last_zxid, 9_000, 4)
    assert stat.czxid < stat.mzxid and stat.ctime == 1_000


def test_sequential_names_count_the_creates_under_the_parent_not_its_deletes(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/q"), session)
    first = keeper.write(Create("/q/n-", sequential=True), session)
    keeper.write(Create("/q/plain"), session)
    keeper.write(Delete("/q/plain"), session)
    fourth = keeper.write(Create("/q/", sequential=True, ephemeral=True), session)
    assert isinstance(first, Created) and isinstance(fourth, Created)
    assert (first.path, fourth.path) == ("/q/n-0000000000", "/q/0000000002")
    assert keeper.stat("/q").cversion == 4


def test_ephemeral_node_records_its_owner(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/e", ephemeral=True), session)
    assert keeper.stat("/e").ephemeral_owner == session


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (Create("/missing/child"), ErrorCode.NONODE),
        (Create("/a"), ErrorCode.NODEEXISTS),
        (Create("/eph/child"), ErrorCode.NOCHILDRENFOREPHEMERALS),
        (Create("/eph", ephemeral=True), ErrorCode.NODEEXISTS),
        (Create("relative"), ErrorCode.BADARGUMENTS),
        (Create("/a/"), ErrorCode.BADARGUMENTS),
        (Create("/a//b"), ErrorCode.BADARGUMENTS),
        (Create("/a/./b"), ErrorCode.BADARGUMENTS),
        (Create("/a/.."), ErrorCode.BADARGUMENTS),
        (Create("/a/\u0001"), ErrorCode.BADARGUMENTS),
        (Create("/a/\ufff5"), ErrorCode.BADARGUMENTS),
        (Create("/"), ErrorCode.NODEEXISTS),
        (Delete("/missing"), ErrorCode.NONODE),
        (Delete("/a", version=3), ErrorCode.BADVERSION),
        (Delete("/a"), ErrorCode.NOTEMPTY),
        (Delete("/"), ErrorCode.BADARGUMENTS),
        (Delete("/a/"), ErrorCode.BADARGUMENTS),
        (SetData("/missing", b""), ErrorCode.NONODE),
        (SetData("/a", b"", version=1), ErrorCode.BADVERSION),
        (Check("/missing", 0), ErrorCode.NONODE),
        (Check("/a", 1), ErrorCode.BADVERSION),
    ],
)
def test_refused_writes_answer_zookeepers_code_and_change_nothing(
    keeper: Keeper, session: int, request_: WriteRequest, code: ErrorCode
) -> None:
    keeper.write(Create("/a"), session)
    keeper.write(Create("/a/b"), session)
    keeper.write(Create("/eph", ephemeral=True), session)
    before = keeper.replica.tree.items()
    snapshot = list((path, node.stat()) for path, node in before)
    assert keeper.write(request_, session) is code
    assert [(path, node.stat()) for path, node in keeper.replica.tree.items()] == snapshot


def test_version_check_precedes_the_children_check_on_delete(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/a"), session)
    keeper.write(Create("/a/b"), session)
    assert keeper.write(Delete("/a", version=5), session) is ErrorCode.BADVERSION


def test_any_version_matches(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/a"), session)
    keeper.write(SetData("/a", b"1"), session)
    assert keeper.write(Check("/a", -1), session) is ErrorCode.OK
    assert keeper.write(Delete("/a", version=-1), session) is ErrorCode.OK


def test_a_refused_write_still_takes_a_zxid_like_zookeepers_error_txn(keeper: Keeper, session: int) -> None:
    before = keeper.replica.last_zxid
    keeper.write(Delete("/missing"), session)
    assert keeper.replica.last_zxid == before + 1


def test_writes_from_an_unknown_or_closed_session_are_expired(keeper: Keeper, session: int) -> None:
    assert keeper.write(Create("/a"), 424242) is ErrorCode.SESSIONEXPIRED
    keeper.write(CloseSession(), session)
    assert keeper.write(Create("/a"), session) is ErrorCode.SESSIONEXPIRED
    assert keeper.write(CloseSession(), session) is ErrorCode.SESSIONEXPIRED


def test_multi_applies_all_ops_under_one_zxid_seeing_its_own_earlier_ops(keeper: Keeper, session: int) -> None:
    results = keeper.write(
        Multi((Create("/m", b"a"), SetData("/m", b"bb", version=0), Check("/m", 1), Create("/m/s-", sequential=True))),
        session,
    )
    zxid = keeper.replica.last_zxid
    assert isinstance(results, tuple) and len(results) == 4
    assert results[0] == Created("/m", Stat(zxid, zxid, 1_000, 1_000, 0, 0, 0, 0, 1, 0, zxid))
    assert isinstance(results[1], Stat) and results[1].version == 1
    assert results[2] is ErrorCode.OK
    assert results[3] == Created("/m/s-0000000000", keeper.stat("/m/s-0000000000"))
    assert keeper.stat("/m").mzxid == zxid


def test_failed_multi_reports_ok_then_the_error_then_runtime_inconsistency_and_changes_nothing(
    keeper: Keeper, session: int
) -> None:
    keeper.write(Create("/x"), session)
    before = keeper.replica.snapshot()
    results = keeper.write(Multi((Create("/y"), Delete("/y"), Create("/x"), SetData("/x", b""))), session)
    assert results == (ErrorCode.OK, ErrorCode.OK, ErrorCode.NODEEXISTS, ErrorCode.RUNTIMEINCONSISTENCY)
    assert Replica.restore(before).tree == keeper.replica.tree


def test_failed_multi_leaves_no_trace_in_later_prepares(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/x"), session)
    keeper.write(Multi((Create("/y"), Check("/x", 9))), session)
    assert isinstance(keeper.write(Create("/y"), session), Created)


def test_empty_multi_succeeds_with_no_results(keeper: Keeper, session: int) -> None:
    assert keeper.write(Multi(()), session) == ()


def test_pipelined_prepares_see_each_others_effects_before_any_is_applied(keeper: Keeper, session: int) -> None:
    txns = [
        keeper.preparer.prepare(request, session, keeper.now_ms)
        for request in (Create("/p"), Create("/p/s-", sequential=True), Create("/p/s-", sequential=True), Delete("/p"))
    ]
    results = [keeper.commit(txn) for txn in txns]
    assert [r.path for r in results[:3] if isinstance(r, Created)] == ["/p", "/p/s-0000000000", "/p/s-0000000001"]
    assert results[3] is ErrorCode.NOTEMPTY


def test_reads_carry_the_last_applied_zxid_and_refuse_missing_or_bad_paths(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/a", b"v"), session)
    keeper.write(Create("/a/c2"), session)
    keeper.write(Create("/a/c1"), session)
    zxid = keeper.replica.last_zxid
    assert keeper.reader.get_data("/a").zxid == zxid
    children = keeper.reader.get_children("/a")
    assert (children.children, children.stat.num_children, children.zxid) == (["c1", "c2"], 2, zxid)
    assert keeper.reader.exists("/nope").stat is None
    for read in (keeper.reader.get_data, keeper.reader.get_children):
        with pytest.raises(KeeperError) as missing:
            read("/nope")
        assert missing.value.code is ErrorCode.NONODE
    with pytest.raises(KeeperError) as bad:
        keeper.reader.exists("no-slash")
    assert bad.value.code is ErrorCode.BADARGUMENTS


def test_a_fresh_tree_looks_like_a_fresh_zookeeper(keeper: Keeper) -> None:
    assert keeper.reader.get_children("/").children == ["zookeeper"]
    assert keeper.stat("/").cversion == -1
    assert keeper.reader.get_children("/zookeeper").children == ["config", "quota"]


def test_txns_and_snapshots_round_trip_through_bytes(keeper: Keeper, session: int) -> None:
    keeper.write(Create("/a", bytes(range(256)), ephemeral=True), session)
    keeper.write(Multi((Create("/b"), Check("/zz", 0))), session)
    assert [encode_txn(decode_txn(raw)) for raw in keeper.log] == keeper.log
    restored = Replica.restore(keeper.replica.snapshot())
    assert restored == keeper.replica
    assert restored.tree.ephemerals(session) == ["/a"]


def test_apply_refuses_a_zxid_that_does_not_increase(keeper: Keeper, session: int) -> None:
    txn = keeper.preparer.prepare(Create("/a"), session, keeper.now_ms)
    keeper.commit(txn)
    with pytest.raises(ValueError):
        keeper.replica.apply(txn)
