"""Session timeouts, leader-side expiry, and closeSession removing exactly the session's ephemerals."""

from __future__ import annotations

from cluster.keeper.errors import ErrorCode
from cluster.keeper.replica import Replica
from cluster.keeper.requests import CloseSession, Create
from cluster.keeper.sessions import SessionTracker, negotiate_timeout
from tests.keeper.test_tree import Keeper


def test_timeouts_are_clamped_to_two_and_twenty_ticks() -> None:
    assert negotiate_timeout(1, tick_ms=2_000) == 4_000
    assert negotiate_timeout(10_000, tick_ms=2_000) == 10_000
    assert negotiate_timeout(10**9, tick_ms=2_000) == 40_000


def test_a_silent_session_expires_at_the_tick_after_its_timeout_and_is_reported_once() -> None:
    tracker = SessionTracker(tick_ms=1_000)
    tracker.track(7, 4_000, now_ms=500)
    assert tracker.next_deadline_ms() == 5_000
    assert tracker.expired(4_999) == []
    assert tracker.expired(5_000) == [7]
    assert tracker.expired(9_000) == []
    assert tracker.touch(7, 9_000) is False
    assert tracker.next_deadline_ms() is None


def test_heartbeats_push_the_deadline() -> None:
    tracker = SessionTracker(tick_ms=1_000)
    tracker.track(7, 4_000, now_ms=0)
    assert tracker.touch(7, 3_000)
    assert tracker.expired(5_000) == []
    assert tracker.expired(8_000) == [7]


def test_unknown_and_forgotten_sessions_cannot_be_touched() -> None:
    tracker = SessionTracker(tick_ms=1_000)
    assert tracker.touch(1, 0) is False
    tracker.track(1, 2_000, 0)
    tracker.forget(1)
    assert tracker.touch(1, 0) is False and tracker.expired(10**6) == []


def test_a_new_leader_restarts_every_replicated_sessions_clock() -> None:
    tracker = SessionTracker.resume({3: 2_000, 1: 4_000}, tick_ms=1_000, now_ms=10_000)
    assert tracker.expired(12_999) == []
    assert tracker.expired(13_000) == [3]
    assert tracker.expired(15_000) == [1]


def test_session_ids_and_timeouts_are_replicated() -> None:
    keeper = Keeper()
    first, second = keeper.session(4_000), keeper.session(6_000)
    assert first != second
    assert keeper.replica.sessions == {first: 4_000, second: 6_000}
    assert Replica.restore(keeper.replica.snapshot()).sessions == keeper.replica.sessions


def test_expiry_closes_the_session_through_a_txn_that_deletes_only_its_ephemerals() -> None:
    keeper = Keeper()
    doomed, other = keeper.session(), keeper.session()
    keeper.write(Create("/p"), doomed)
    keeper.write(Create("/p/mine", ephemeral=True), doomed)
    keeper.write(Create("/p/seq-", ephemeral=True, sequential=True), doomed)
    keeper.write(Create("/theirs", ephemeral=True), other)
    tracker = SessionTracker.resume(keeper.replica.sessions, tick_ms=1_000, now_ms=0)
    tracker.touch(other, 9_000)
    for expired in tracker.expired(11_000):
        assert keeper.write(CloseSession(), expired) is ErrorCode.OK
        tracker.forget(expired)
    zxid = keeper.replica.last_zxid
    parent = keeper.stat("/p")
    assert (parent.num_children, parent.pzxid, parent.cversion) == (0, zxid, 4)
    assert keeper.replica.tree.ephemerals(doomed) == []
    assert keeper.replica.tree.ephemerals(other) == ["/theirs"]
    assert list(keeper.replica.sessions) == [other]


def test_close_prepared_behind_a_pending_ephemeral_create_deletes_it_too() -> None:
    keeper = Keeper()
    session = keeper.session()
    pipelined = [
        keeper.preparer.prepare(Create("/e", ephemeral=True), session, 0),
        keeper.preparer.prepare(CloseSession(), session, 0),
        keeper.preparer.prepare(Create("/e"), session, 0),
    ]
    assert [keeper.commit(txn) for txn in pipelined][1:] == [ErrorCode.OK, ErrorCode.SESSIONEXPIRED]
    assert keeper.replica.tree.get("/e") is None
