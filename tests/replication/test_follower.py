"""The follower's rules through the replica's public interface: truncation by leader epoch, fetching, errors."""

from __future__ import annotations

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    EpochEndOffsetResponse,
    FetchResponse,
    ReplicationConfig,
    Role,
    SendEpochEndOffset,
    SendFetch,
    TruncateTo,
)
from cluster.sim.replication.broker import memory_replica
from cluster.sim.replication.memory_log import MemoryLog, Record
from tests.replication.wiring import CONFIG, Wiring, records, state

PAIR_CONFIG = ReplicationConfig(
    min_insync_replicas=1, replica_fetch_wait_max_ms=10, replica_fetch_backoff_ms=20, replica_socket_timeout_ms=50
)


def entries(log: MemoryLog) -> list[tuple[int, int, int]]:
    return [(r.offset, r.epoch, r.value) for r in log.records]


def test_two_quick_failovers_keep_acknowledged_writes_because_truncation_ignores_the_high_watermark() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.apply(state(1, 0, (1, 2), version=0))
    wiring.produce(1, "a", 10, acks=-1)
    wiring.produce(1, "b", 11, acks=-1)
    wiring.advance(wiring.now + PAIR_CONFIG.replica_fetch_wait_max_ms)
    assert [wiring.completed[r].error for r in "ab"] == [ErrorCode.NONE, ErrorCode.NONE]
    wiring.restart(2, MemoryLog(*wiring.log(2).snapshot()), PAIR_CONFIG)
    assert wiring.replica(2).high_watermark == 0, "a restarted follower's HW lags: cutting there would drop both"
    wiring.apply(state(1, 0, (1, 2), version=0), brokers=[2])
    assert [r.value for r in wiring.log(2).records] == [10, 11]
    wiring.apply(state(2, 1, (2,), version=1), brokers=[2])  # the old leader dies at once
    assert wiring.replica(2).role == Role.LEADER
    assert [r.value for r in wiring.log(2).records] == [10, 11]


def test_a_returning_leader_cuts_what_the_new_leader_never_had_and_takes_its_writes() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.log(1).append_as_follower(records(0, 0))
    wiring.log(2).append_as_follower(records(0))
    wiring.apply(state(2, 1, (2,), version=1), brokers=[2])
    wiring.produce(2, "y", 55, acks=1)
    wiring.apply(state(2, 1, (2,), version=1), brokers=[1])
    assert entries(wiring.log(1)) == [(0, 0, 100), (1, 1, 55)]
    assert entries(wiring.log(1)) == entries(wiring.log(2))


def test_an_epoch_the_leader_never_had_is_cut_back_in_rounds_kip_279() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.log(1).append_as_follower([*records(0, 0), Record(2, 2, 902), Record(3, 2, 903)])
    wiring.log(2).append_as_follower([*records(0, 0), *records(1, 1, 1, start=2)])
    wiring.apply(state(2, 3, (2,), version=5), brokers=[2])
    follower = memory_replica(1, wiring.log(1), PAIR_CONFIG)
    wiring.drivers[1] = follower
    [ask] = follower.run(follower.replica.apply_state(state(2, 3, (2,), version=5), (1, 2), 0), 0)
    assert isinstance(ask, SendEpochEndOffset) and ask.request.leader_epoch == 2
    answer = wiring.drivers[2].replica.epoch_end_offset(ask.request)
    assert (answer.leader_epoch, answer.end_offset) == (1, 5), "epoch 1 ends where the leader's epoch 3 began"
    assert follower.replica.on_epoch_end_offset(answer, 0) == [TruncateTo(2)], "not min(5, 4): its epoch 2 diverged"
    wiring.handle(1, follower.run([TruncateTo(2)], 0))
    assert entries(wiring.log(1)) == entries(wiring.log(2))


def test_an_empty_new_leader_makes_a_follower_cut_everything_it_never_had() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.log(1).append_as_follower(records(3, 3))
    wiring.apply(state(2, 5, (2,), version=0), brokers=[2])
    wiring.produce(2, "z", 77, acks=1)
    wiring.apply(state(2, 5, (2,), version=0), brokers=[1])
    assert entries(wiring.log(1)) == [(0, 5, 77)], "not kept below the leader's log end: a different history"


def test_a_leader_that_tracks_no_epochs_is_answered_by_its_log_end() -> None:
    follower = memory_replica(1, MemoryLog(0, records(3, 3, 3)), PAIR_CONFIG)
    [ask] = follower.run(follower.replica.apply_state(state(2, 5, (2,), version=0), (1, 2), 0), 0)
    assert isinstance(ask, SendEpochEndOffset)
    unknown = EpochEndOffsetResponse(ask.request.correlation, ErrorCode.NONE, -1, -1)
    [fetch] = follower.run(follower.replica.on_epoch_end_offset(unknown, 1), 1)
    assert isinstance(fetch, SendFetch) and fetch.request.fetch_offset == 3, "nothing cut yet"
    out_of_range = FetchResponse(fetch.request.correlation, ErrorCode.OFFSET_OUT_OF_RANGE, 1, 0, 1)
    [again] = follower.run(follower.replica.on_fetch_response(out_of_range, 2), 2)
    assert isinstance(again, SendFetch) and again.request.fetch_offset == 1
    assert follower.log.log_end_offset == 1


def test_a_follower_behind_the_leaders_log_start_restarts_its_log_there() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.drivers[2] = memory_replica(2, MemoryLog(10, records(1, 1, start=10)), PAIR_CONFIG)
    wiring.log(1).append_as_follower(records(0, 0))
    wiring.apply(state(2, 2, (2,), version=0))
    assert wiring.replica(1).role == Role.FOLLOWER and wiring.log(1).log_start_offset == 0
    wiring.advance(PAIR_CONFIG.replica_fetch_backoff_ms)  # 1 heard before 2 did: NOT_LEADER, retried
    assert wiring.log(1).log_start_offset == 10
    assert entries(wiring.log(1)) == entries(wiring.log(2))


def test_the_follower_high_watermark_is_the_leaders_capped_at_its_own_log_end() -> None:
    follower = memory_replica(2, MemoryLog(), PAIR_CONFIG)
    [fetch] = follower.run(follower.replica.apply_state(state(1, 0, (1, 2), version=0), (1, 2), 0), 0)
    assert isinstance(fetch, SendFetch) and fetch.request.fetch_offset == 0
    response = FetchResponse(fetch.request.correlation, ErrorCode.NONE, 5, 0, 5, tuple(records(0, 0)))
    [again] = follower.run(follower.replica.on_fetch_response(response, 1), 1)
    assert isinstance(again, SendFetch) and again.request.fetch_offset == 2
    assert follower.replica.high_watermark == 2


def test_answers_to_requests_no_longer_awaited_are_ignored() -> None:
    follower = memory_replica(2, MemoryLog(), PAIR_CONFIG)
    [fetch] = follower.run(follower.replica.apply_state(state(1, 0, (1, 2), version=0), (1, 2), 0), 0)
    assert isinstance(fetch, SendFetch)
    stale = FetchResponse(fetch.request.correlation + 7, ErrorCode.NONE, 5, 0, 5, tuple(records(0, 0)))
    assert follower.run(follower.replica.on_fetch_response(stale, 1), 1) == []
    assert follower.log.log_end_offset == 0


def test_a_fenced_follower_waits_for_new_state_and_other_errors_are_retried_after_backoff() -> None:
    follower = memory_replica(2, MemoryLog(), PAIR_CONFIG)
    [fetch] = follower.run(follower.replica.apply_state(state(1, 0, (1, 2), version=0), (1, 2), 0), 0)
    assert isinstance(fetch, SendFetch)
    refused = FetchResponse(fetch.request.correlation, ErrorCode.NOT_LEADER_OR_FOLLOWER, 0, 0, 0)
    assert follower.replica.on_fetch_response(refused, 1) == []
    assert follower.replica.tick(1 + PAIR_CONFIG.replica_fetch_backoff_ms - 1) == []
    [retry] = follower.replica.tick(1 + PAIR_CONFIG.replica_fetch_backoff_ms)
    assert isinstance(retry, SendFetch)
    fenced = FetchResponse(retry.request.correlation, ErrorCode.FENCED_LEADER_EPOCH, 0, 0, 0)
    assert follower.replica.on_fetch_response(fenced, 30) == []
    assert follower.replica.tick(10_000) == []
    [ask] = follower.run(follower.replica.apply_state(state(3, 1, (3,), version=1), (1, 2, 3), 10_001), 10_001)
    assert isinstance(ask, SendFetch) and ask.leader == 3


def test_an_unanswered_request_is_sent_again_after_the_socket_timeout() -> None:
    follower = memory_replica(2, MemoryLog(0, records(0)), PAIR_CONFIG)
    [ask] = follower.run(follower.replica.apply_state(state(1, 1, (1, 2), version=0), (1, 2), 0), 0)
    assert isinstance(ask, SendEpochEndOffset)
    assert follower.replica.tick(PAIR_CONFIG.replica_socket_timeout_ms - 1) == []
    [again] = follower.replica.tick(PAIR_CONFIG.replica_socket_timeout_ms)
    assert isinstance(again, SendEpochEndOffset) and again.request.correlation != ask.request.correlation


def test_a_new_epoch_with_the_same_leader_truncates_again() -> None:
    wiring = Wiring()
    wiring.apply(state(1, 0, (1, 2, 3), version=0))
    wiring.produce(1, "a", 1, acks=1)
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)
    follower = wiring.drivers[2]
    now = wiring.now
    actions = follower.run(follower.replica.apply_state(state(1, 1, (1, 2, 3), version=1), (1, 2, 3), now), now)
    assert [type(action) for action in actions] == [SendEpochEndOffset]


def test_an_answer_to_a_request_of_an_earlier_epoch_is_ignored() -> None:
    follower = memory_replica(2, MemoryLog(), PAIR_CONFIG)
    [old] = follower.run(follower.replica.apply_state(state(1, 9, (1, 2), version=0), (1, 2), 0), 0)
    [new] = follower.run(follower.replica.apply_state(state(1, 10, (1, 2), version=1), (1, 2), 1), 1)
    assert isinstance(old, SendFetch) and isinstance(new, SendFetch)
    stale = FetchResponse(old.request.correlation, ErrorCode.FENCED_LEADER_EPOCH, 0, 0, 0)
    assert follower.replica.on_fetch_response(stale, 2) == []
    answer = FetchResponse(new.request.correlation, ErrorCode.NONE, 1, 0, 1, tuple(records(10)))
    [again] = follower.run(follower.replica.on_fetch_response(answer, 3), 3)
    assert isinstance(again, SendFetch) and again.request.fetch_offset == 1, "still fetching: not fenced"


def test_a_history_that_diverged_below_the_leaders_log_start_is_dropped_with_it() -> None:
    wiring = Wiring((1, 2), PAIR_CONFIG)
    wiring.log(1).append_as_follower([*records(0, 0, 0, 0), *records(2, start=4)])
    wiring.drivers[2] = memory_replica(2, MemoryLog(3, records(1, 1, start=3)), PAIR_CONFIG)
    wiring.apply(state(2, 3, (2,), version=0), brokers=[2])
    wiring.apply(state(2, 3, (2,), version=0), brokers=[1])
    assert wiring.log(1).log_start_offset == 3, "offsets 0-2 of epoch 0: the leader cannot vouch for them"
    assert entries(wiring.log(1)) == entries(wiring.log(2))
