"""Workers own partitions: on a virtual clock, workers stuck on one partition's dead leader hold up only it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.generator import SECOND, TimeLimit
from harness.partition_owners import owned
from logquake.interpreter import simulate
from logquake.registry import WORKLOADS
from workloads.log.operations import main_phase as log_phase
from workloads.queue.operations import main_phase

seeds = st.integers(0, 2**32)
MS = SECOND // 1000
STUCK = 0
"""The partition whose leader never answers in these runs."""


@given(st.integers(1, 12), st.integers(1, 12))
def test_every_partition_has_owners_and_enough_workers_give_each_its_own(workers, partitions):
    owners = {p: [rank for rank in range(workers) if p in owned(rank, workers, partitions)]
              for p in range(partitions)}
    assert all(owned(rank, workers, partitions) for rank in range(workers))
    assert all(len(ranks) >= max(1, workers // partitions) for ranks in owners.values())
    if workers >= partitions:
        assert all(len(owned(rank, workers, partitions)) == 1 for rank in range(workers))
    else:
        assert all(len(ranks) == 1 for ranks in owners.values())


def never_for_the_stuck_partition(op) -> int:
    """Ops on STUCK (sends, or the log's appends and reads) never complete; the others take 5 ms."""
    value = op.get("value")
    return 10**6 * SECOND if isinstance(value, dict) and value.get("partition") == STUCK else 5 * MS


def ops_after(history, start: int) -> list[dict]:
    return [op for op in history if op["type"] == "invoke" and op["time"] >= start]


@settings(max_examples=10)
@given(seeds, st.integers(2, 4), st.integers(2, 3))
def test_queue_workers_stuck_on_one_partition_leave_the_others_their_rate(seed, per_partition, partitions):
    spec = WORKLOADS.spec(partitions=partitions, rate=100, topic="q")
    workers = per_partition * partitions
    history = simulate(TimeLimit(10 * SECOND, main_phase(spec)), workers, seed, never_for_the_stuck_partition)
    later = ops_after(history, 2 * SECOND)
    sent_to = {op["value"]["partition"] for op in later if op["f"] == "send"}
    assert sent_to == set(range(partitions)) - {STUCK}
    assert len(later) >= 0.9 * 8 * 100
    stuck_threads = {op["thread"] for op in history if op["type"] == "invoke" and op["f"] == "send"
                     and op["value"]["partition"] == STUCK}
    assert stuck_threads == {t for t in range(workers) if STUCK in owned(t, workers, partitions)}


@settings(max_examples=10)
@given(seeds, st.integers(2, 3))
def test_log_appends_and_reads_go_on_while_one_partition_is_stuck(seed, partitions):
    spec = WORKLOADS.spec(workload="log", partitions=partitions, rate=100, brokers=1, replication_factor=1,
                          min_insync=1)
    history = simulate(TimeLimit(10 * SECOND, log_phase(spec)), 2 * partitions, seed, never_for_the_stuck_partition)
    later = ops_after(history, 2 * SECOND)
    assert {op["f"] for op in later} == {"append", "read"}
    assert {op["value"]["partition"] for op in later} == set(range(partitions)) - {STUCK}
    assert len(later) >= 0.9 * 8 * 100


@settings(max_examples=10)
@given(seeds, st.integers(1, 5), st.integers(1, 6))
def test_every_partition_gets_sends_whatever_the_workers(seed, workers, partitions):
    spec = WORKLOADS.spec(partitions=partitions, rate=300, topic="q")
    history = simulate(TimeLimit(SECOND, main_phase(spec)), workers, seed)
    sends = [op["value"]["partition"] for op in history if op["type"] == "invoke" and op["f"] == "send"]
    assert set(sends) == set(range(partitions))
