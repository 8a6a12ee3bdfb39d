"""The leader's rules through the replica's public interface: HW, ISR changes, acks and errors."""

from __future__ import annotations

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    AlterIsr,
    AppendAsLeader,
    CompleteProduce,
    EpochEndOffsetRequest,
    FetchRequest,
    PartitionReplica,
    ReplicationConfig,
    Role,
)
from cluster.sim.replication.memory_log import MemoryLog
from tests.replication.wiring import CONFIG, Wiring, records, state


def led_by_1(isr: tuple[int, ...] = (1, 2, 3)) -> Wiring:
    wiring = Wiring()
    wiring.apply(state(1, 0, isr, version=0))
    return wiring


def test_high_watermark_is_the_minimum_log_end_over_the_isr() -> None:
    wiring = led_by_1()
    wiring.cut = {3}
    wiring.produce(1, "a", 7, acks=1)
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)
    assert wiring.log(2).log_end_offset == 1
    assert wiring.replica(1).high_watermark == 0, "broker 3 has not fetched: nothing is committed"
    wiring.cut = set()
    wiring.advance(wiring.now + CONFIG.replica_socket_timeout_ms)
    assert wiring.replica(1).high_watermark == 1
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)  # followers learn it one fetch later
    assert wiring.replica(2).high_watermark == 1 and wiring.replica(3).high_watermark == 1


def test_a_new_leader_counts_no_follower_position_until_it_fetches_in_the_new_epoch() -> None:
    wiring = led_by_1()
    wiring.produce(1, "a", 7, acks=1)
    wiring.advance(wiring.now + 2 * CONFIG.replica_fetch_wait_max_ms)
    assert wiring.replica(2).high_watermark == 1
    wiring.cut = {1, 3}
    wiring.apply(state(2, 1, (2, 3), version=1), brokers=[2])
    wiring.produce(2, "b", 8, acks=1)
    assert wiring.replica(2).high_watermark == 1, "no fetch from 3 in epoch 1 yet"


def test_acks_0_and_1_complete_at_append_and_acks_all_when_the_high_watermark_passes() -> None:
    wiring = led_by_1()
    wiring.cut = {2, 3}
    wiring.produce(1, "zero", 1, acks=0)
    wiring.produce(1, "one", 2, acks=1)
    wiring.produce(1, "all", 3, acks=-1)
    assert wiring.completed["zero"] == CompleteProduce("zero", ErrorCode.NONE, 0)
    assert wiring.completed["one"] == CompleteProduce("one", ErrorCode.NONE, 1)
    assert "all" not in wiring.completed
    wiring.cut = set()
    wiring.advance(wiring.now + CONFIG.replica_socket_timeout_ms)
    assert wiring.completed["all"] == CompleteProduce("all", ErrorCode.NONE, 2)


def test_acks_all_is_refused_before_appending_when_the_isr_is_below_min_insync_replicas() -> None:
    wiring = led_by_1(isr=(1,))
    wiring.produce(1, "all", 3, acks=-1)
    wiring.produce(1, "one", 4, acks=1)
    assert wiring.completed["all"].error == ErrorCode.NOT_ENOUGH_REPLICAS
    assert wiring.completed["one"].error == ErrorCode.NONE
    assert [r.value for r in wiring.log(1).records] == [4], "the refused write was not appended"


def test_the_high_watermark_does_not_move_while_the_isr_is_below_the_minimum() -> None:
    wiring = led_by_1(isr=(1,))
    wiring.produce(1, "one", 4, acks=1)
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)
    assert wiring.replica(1).high_watermark == 0
    assert wiring.isr_writes[-1] == AlterIsr((1, 2), 0, 0), "the caught-up follower is proposed, not assumed"
    assert wiring.replica(1).isr == {1}
    wiring.apply(state(1, 0, (1, 2), version=1), brokers=[1])
    assert wiring.replica(1).high_watermark == 1


def test_an_isr_below_the_minimum_while_waiting_answers_not_enough_replicas_after_append() -> None:
    wiring = led_by_1()
    wiring.cut = {2, 3}
    wiring.produce(1, "all", 3, acks=-1)
    wiring.apply(state(1, 0, (1,), version=1), brokers=[1])
    assert wiring.completed["all"].error == ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
    assert [r.value for r in wiring.log(1).records] == [3], "the write stays in the log and may still commit"


def test_acks_all_times_out_with_request_timed_out() -> None:
    wiring = led_by_1()
    wiring.cut = {3}
    wiring.produce(1, "all", 3, acks=-1, timeout_ms=30)
    wiring.advance(29)
    assert "all" not in wiring.completed
    wiring.advance(30)
    assert wiring.completed["all"].error == ErrorCode.REQUEST_TIMED_OUT


def test_losing_leadership_answers_waiting_writes_not_leader_or_follower() -> None:
    wiring = led_by_1()
    wiring.cut = {2, 3}
    wiring.produce(1, "all", 3, acks=-1)
    wiring.apply(state(2, 1, (2, 3), version=1), brokers=[1])
    assert wiring.completed["all"].error == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert wiring.replica(1).role == Role.FOLLOWER
    wiring.produce(1, "late", 4, acks=1)
    assert wiring.completed["late"].error == ErrorCode.NOT_LEADER_OR_FOLLOWER


def test_invalid_acks_are_refused() -> None:
    wiring = led_by_1()
    wiring.produce(1, "two", 3, acks=2)
    assert wiring.completed["two"].error == ErrorCode.INVALID_REQUIRED_ACKS


def test_a_lagging_follower_leaves_the_isr_through_a_conditional_write_that_may_fail() -> None:
    wiring = led_by_1()
    wiring.cut = {3}
    wiring.produce(1, "one", 1, acks=1)
    wiring.advance(CONFIG.replica_lag_time_max_ms)
    assert wiring.isr_writes == []
    wiring.advance(CONFIG.replica_lag_time_max_ms + 1)
    [shrink] = wiring.isr_writes
    assert shrink == AlterIsr((1, 2), 0, 0)
    leader = wiring.replica(1)
    leader.isr_update_result(shrink, state(1, 0, (1, 2, 3), version=4), wiring.replicas, wiring.now)  # lost a race
    assert leader.isr == {1, 2, 3} and leader.state is not None and leader.state.version == 4
    wiring.advance(wiring.now + 1)
    retry = wiring.isr_writes[-1]
    assert retry == AlterIsr((1, 2), 0, 4), "retried against the version it now knows"
    leader.isr_update_result(retry, state(1, 0, (1, 2), version=5), wiring.replicas, wiring.now)
    assert leader.isr == {1, 2}


def test_an_unanswered_isr_write_is_sent_again_as_it_was() -> None:
    wiring = led_by_1()
    wiring.cut = {3}
    wiring.advance(CONFIG.replica_lag_time_max_ms + 1)
    assert len(wiring.isr_writes) == 1
    wiring.advance(wiring.now + CONFIG.isr_update_timeout_ms)
    assert wiring.isr_writes == [AlterIsr((1, 2), 0, 0)] * 2


def test_a_joining_follower_holds_the_high_watermark_back_until_the_keeper_refuses_it() -> None:
    log = MemoryLog(0, records(0, 0))
    leader = PartitionReplica(1, log, CONFIG)
    leader.apply_state(state(1, 1, (1, 2), version=3), (1, 2, 3), now=0)
    leader.fetch(FetchRequest(2, 2, 1, correlation=1), now=1)
    assert leader.high_watermark == 2
    [append] = leader.produce("x", acks=1, timeout_ms=100)
    assert isinstance(append, AppendAsLeader)
    offset = log.append_as_leader(7, append.leader_epoch).base_offset
    leader.appended_as_leader(append, offset, offset, now=2)
    _, [join] = leader.fetch(FetchRequest(3, 2, 1, correlation=1), now=3)
    assert join == AlterIsr((1, 2, 3), 1, 3)
    leader.fetch(FetchRequest(2, 3, 1, correlation=2), now=4)
    assert leader.high_watermark == 2, "3 may be in the ISR already: the HW waits for it"
    assert leader.tick(4 + CONFIG.isr_update_timeout_ms) == [join], "unanswered: sent again, not given up"
    leader.isr_update_result(join, state(1, 1, (1, 2), version=3), (1, 2, 3), now=5)
    assert leader.high_watermark == 2, "a refusal lets the next fetch move the HW"
    leader.fetch(FetchRequest(2, 3, 1, correlation=3), now=6)
    assert leader.high_watermark == 3


def test_a_follower_joins_only_at_or_past_both_the_high_watermark_and_the_epoch_start() -> None:
    leader = PartitionReplica(1, MemoryLog(0, records(0, 0, 0)), CONFIG)
    leader.apply_state(state(1, 1, (1, 2), version=3), (1, 2, 3), now=0)
    assert (leader.high_watermark, leader.epoch_start_offset) == (0, 3), "2 has not fetched in this epoch"
    _, actions = leader.fetch(FetchRequest(3, 2, 1, correlation=1), now=1)
    assert actions == [], "past the HW but short of this epoch's start"
    _, actions = leader.fetch(FetchRequest(3, 3, 1, correlation=2), now=2)
    assert actions == [AlterIsr((1, 2, 3), 1, 3)]


def test_the_high_watermark_never_goes_back_when_a_follower_reports_a_shorter_log() -> None:
    wiring = led_by_1()
    for value in range(3):
        wiring.produce(1, value, value, acks=1)
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)
    assert wiring.replica(1).high_watermark == 3
    answer, _ = wiring.replica(1).fetch(FetchRequest(2, 1, 0, correlation=99), wiring.now)
    assert answer.error == ErrorCode.NONE and answer.high_watermark == 3


def test_fetch_errors_name_the_problem() -> None:
    wiring = Wiring()
    wiring.log(1).append_as_follower(records(0, 0))
    wiring.apply(state(1, 2, (1, 2, 3), version=0), brokers=[1])
    leader = wiring.replica(1)
    now = wiring.now
    assert leader.fetch(FetchRequest(2, 0, 1, 1), now)[0].error == ErrorCode.FENCED_LEADER_EPOCH
    assert leader.fetch(FetchRequest(2, 0, 3, 1), now)[0].error == ErrorCode.UNKNOWN_LEADER_EPOCH
    assert leader.fetch(FetchRequest(7, 0, 2, 1), now)[0].error == ErrorCode.REPLICA_NOT_AVAILABLE
    out_of_range = leader.fetch(FetchRequest(2, 5, 2, 1), now)[0]
    assert out_of_range.error == ErrorCode.OFFSET_OUT_OF_RANGE and out_of_range.log_end_offset == 2
    follower = wiring.replica(2)
    assert follower.fetch(FetchRequest(3, 0, 2, 1), now)[0].error == ErrorCode.NOT_LEADER_OR_FOLLOWER


def test_followers_read_to_the_log_end_and_consumers_below_the_high_watermark() -> None:
    wiring = led_by_1()
    wiring.cut = {3}
    wiring.produce(1, "one", 1, acks=1)
    wiring.advance(wiring.now + CONFIG.replica_fetch_wait_max_ms)  # 2 has it, 3 does not: HW 0
    wiring.produce(1, "two", 2, acks=1)
    leader = wiring.replica(1)
    follower_read = leader.fetch(FetchRequest(3, 0, 0, 1), wiring.now)[0]
    assert (follower_read.read_from, follower_read.read_to) == (0, 2)
    consumer_read = leader.consumer_fetch(0)
    assert (consumer_read.read_from, consumer_read.read_to) == (0, leader.high_watermark)
    assert leader.high_watermark < 2


def test_the_leader_answers_epoch_end_offsets_for_its_own_epoch_before_writing_in_it() -> None:
    log = MemoryLog(0, records(0, 0, 2, 2, 4))
    leader = PartitionReplica(1, log, CONFIG)
    leader.apply_state(state(1, 6, (1, 2), version=0), (1, 2), now=0)

    def ask(epoch: int) -> tuple[int, int]:
        answer = leader.epoch_end_offset(EpochEndOffsetRequest(2, epoch, 6, correlation=1))
        assert answer.error == ErrorCode.NONE
        return answer.leader_epoch, answer.end_offset

    assert ask(0) == (0, 2)
    assert ask(1) == (0, 2), "the largest known epoch at or below the one asked"
    assert ask(2) == (2, 4)
    assert ask(4) == (4, 5)
    assert ask(5) == (4, 5), "epoch 4 ends where this leader's epoch 6 began"
    assert ask(6) == (6, 5)
    fenced = leader.epoch_end_offset(EpochEndOffsetRequest(2, 4, 5, correlation=1))
    assert fenced.error == ErrorCode.FENCED_LEADER_EPOCH


def test_an_epoch_older_than_all_the_leader_knows_ends_where_the_first_known_begins() -> None:
    leader = PartitionReplica(1, MemoryLog(7), CONFIG)
    leader.apply_state(state(1, 3, (1,), version=0), (1, 2), now=0)
    answer = leader.epoch_end_offset(EpochEndOffsetRequest(2, 1, 3, correlation=1))
    assert (answer.leader_epoch, answer.end_offset) == (1, 7), "an empty leader still knows its own epoch 3"
    leader = PartitionReplica(1, MemoryLog(0, records(2, 2)), CONFIG)
    leader.apply_state(state(1, 3, (1,), version=0), (1, 2), now=0)
    answer = leader.epoch_end_offset(EpochEndOffsetRequest(2, 1, 3, correlation=1))
    assert (answer.leader_epoch, answer.end_offset) == (1, 0)


def test_stale_or_repeated_states_are_ignored() -> None:
    wiring = led_by_1()
    wiring.apply(state(2, 1, (2, 3), version=1))
    assert wiring.replica(1).role == Role.FOLLOWER
    wiring.apply(state(1, 0, (1, 2, 3), version=5))
    assert wiring.replica(1).role == Role.FOLLOWER and wiring.replica(2).role == Role.LEADER
    wiring.apply(state(-1, 2, (2,), version=2))
    assert {wiring.replica(b).role for b in (1, 2, 3)} == {Role.OFFLINE}


def test_appends_reported_for_an_older_epoch_are_answered_not_leader() -> None:
    replica = PartitionReplica(1, MemoryLog(), ReplicationConfig())
    replica.apply_state(state(1, 0, (1,), version=0), (1,), now=0)
    [append] = replica.produce("x", acks=1, timeout_ms=100)
    assert isinstance(append, AppendAsLeader)
    replica.apply_state(state(1, 2, (1,), version=1), (1,), now=0)
    assert replica.appended_as_leader(append, 0, 0, now=0) == [CompleteProduce("x", ErrorCode.NOT_LEADER_OR_FOLLOWER)]


def test_an_acks_all_write_already_below_the_high_watermark_completes_at_once() -> None:
    """A retried idempotent batch is answered with its original offsets, which the HW may have passed."""
    log = MemoryLog()
    replica = PartitionReplica(1, log, ReplicationConfig())
    replica.apply_state(state(1, 0, (1,), version=0), (1,), now=0)
    [append] = replica.produce("x", acks=-1, timeout_ms=100)
    log.append_as_leader(7, append.leader_epoch)
    assert replica.appended_as_leader(append, 0, 0, now=0) == [CompleteProduce("x", ErrorCode.NONE, 0)]
    [retry] = replica.produce("retry", acks=-1, timeout_ms=100)
    assert replica.appended_as_leader(retry, 0, 0, now=1) == [CompleteProduce("retry", ErrorCode.NONE, 0)]
