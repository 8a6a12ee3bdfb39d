"""The simulator's checks: they fire on the anomaly they name, and not on a correct history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.protocol.errors import ErrorCode
from cluster.sim.replication.client import Write
from cluster.sim.replication.memory_log import MemoryLog, Record
from cluster.sim.replication.monitor import ReplicaView, ReplicationMonitor
from tests.replication.wiring import state


def acknowledged(values: list[int], acks: int = -1) -> list[Write]:
    return [
        Write(v, 0, acks, invoked=10 * i, outcome="ok", offset=i, error=ErrorCode.NONE, completed=10 * i + 5)
        for i, v in enumerate(values)
    ]


def log_of(values: list[int]) -> MemoryLog:
    return MemoryLog(0, [Record(offset, 0, value) for offset, value in enumerate(values)])


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30, unique=True))
def test_a_final_log_holding_every_acknowledged_write_passes(values: list[int]) -> None:
    monitor = ReplicationMonitor(unclean=False)
    monitor.check_final_logs({0: log_of(values)}, acknowledged(values))
    assert monitor.violations == [] and monitor.lost == []


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30, unique=True), st.data())
def test_an_acknowledged_acks_all_write_missing_from_the_final_log_is_a_violation(
    values: list[int], data: st.DataObject
) -> None:
    gone = data.draw(st.integers(0, len(values) - 1))
    final = values[:gone] + data.draw(st.sampled_from([[], [-1]]))
    monitor = ReplicationMonitor(unclean=False)
    monitor.check_final_logs({0: log_of(final)}, acknowledged(values))
    assert {lost.write.value for lost in monitor.lost} == set(values[gone:])
    assert len(monitor.violations) == len(values) - gone


def test_losses_the_configuration_allows_are_reported_apart() -> None:
    writes = acknowledged([1, 2], acks=1)
    monitor = ReplicationMonitor(unclean=False)
    monitor.check_final_logs({0: log_of([])}, writes)
    assert [lost.expected for lost in monitor.lost] == ["acks=1", "acks=1"] and monitor.violations == []
    unclean = ReplicationMonitor(unclean=True)
    unclean.check_final_logs({0: log_of([])}, acknowledged([1]))
    assert unclean.lost[0].expected == "unclean leader election is enabled" and unclean.violations == []


def test_a_loss_is_allowed_only_when_no_isr_member_was_up_after_the_acknowledgement() -> None:
    [write] = acknowledged([1])  # acknowledged at t=5
    early = ReplicationMonitor(unclean=False)
    early.state_stored(0, state(1, 0, (1, 2), version=0), up=[], now=1)
    early.brokers_up([2], now=3)
    early.check_final_logs({0: log_of([])}, [write])
    assert early.violations, "the ISR had a member up again before the acknowledgement"
    late = ReplicationMonitor(unclean=False)
    late.state_stored(0, state(1, 0, (1, 2), version=0), up=[], now=1)
    late.brokers_up([2], now=9)
    late.check_final_logs({0: log_of([])}, [write])
    assert late.violations == [] and late.lost[0].expected == "no ISR member was up from t=1 to t=9"


def test_a_value_twice_in_the_final_log_is_a_violation() -> None:
    monitor = ReplicationMonitor(unclean=False)
    monitor.check_final_logs({0: log_of([4, 5, 4])}, [])
    assert monitor.violations == ["partition 0: value 4 is at offsets 0 and 2"]


def test_a_leader_high_watermark_going_back_within_its_epoch_is_a_violation() -> None:
    monitor = ReplicationMonitor(unclean=False)
    monitor.observe_leader(1, 0, epoch=3, high_watermark=5)
    monitor.observe_leader(1, 0, epoch=4, high_watermark=2)
    assert monitor.violations == []
    monitor.observe_leader(1, 0, epoch=3, high_watermark=4)
    assert monitor.violations


def test_an_in_sync_follower_differing_below_the_high_watermark_is_a_violation() -> None:
    leader = ReplicaView(1, log_of([1, 2, 3]), True, 2, 2, frozenset({1, 2, 3}), False)
    same = ReplicaView(2, log_of([1, 2, 9]), False, 2, 1, frozenset(), True)
    other = ReplicaView(3, log_of([1, 7]), False, 2, 1, frozenset(), True)
    monitor = ReplicationMonitor(unclean=False)
    monitor.check_prefixes(0, 2, [leader, same])
    assert monitor.violations == [], "offset 2 is above the HW: it may still differ"
    monitor.check_prefixes(0, 2, [leader, other])
    assert monitor.violations and "follower 3" in monitor.violations[0]
