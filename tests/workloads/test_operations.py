"""The queue workload's schedules on a virtual clock: unique sends, the first assign, final reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.generator import SECOND, TimeLimit
from logquake.interpreter import simulate
from logquake.registry import WORKLOADS
from workloads.queue.operations import final_reads, final_targets, highest_acknowledged, main_phase

seeds = st.integers(0, 2**32)


@settings(max_examples=10)
@given(seeds, st.integers(1, 5), st.integers(1, 6), st.sampled_from(["assign", "subscribe"]))
def test_main_phase_sends_unique_values_to_real_partitions(seed, workers, partitions, mode):
    spec = WORKLOADS.spec(partitions=partitions, mode=mode, rate=300, topic="q")
    history = simulate(TimeLimit(SECOND, main_phase(spec)), workers, seed)
    invokes = [op for op in history if op["type"] == "invoke"]
    sends = [op["value"] for op in invokes if op["f"] == "send"]
    assert len({s["value"] for s in sends}) == len(sends) > 20
    assert {s["partition"] for s in sends} <= set(range(partitions))
    first = {}
    for op in invokes:
        first.setdefault(op["thread"], op)
    expected = ("subscribe", ["q"]) if mode == "subscribe" else ("assign", list(range(partitions)))
    assert {(op["f"], str(op["value"])) for op in first.values()} == {(expected[0], str(expected[1]))}
    assert len(first) == workers
    assert {op["f"] for op in invokes} <= {"send", "poll", "assign", "subscribe"}
    assert any(op["f"] == "poll" for op in invokes)


def polls_returning(log: dict[int, list[int]], step: int):
    """A consumer that reads `step` records per poll from each partition's log, from where it is."""
    positions: dict = {}

    def complete(op):
        if op["f"] == "assign":
            for p in op["value"]:
                positions[(op["thread"], p)] = 0
            return "ok", op["value"]
        reads = {}
        for p, offsets in log.items():
            at = positions.get((op["thread"], p), 0)
            if offsets[at:at + step]:
                reads[str(p)] = [[o, o * 10] for o in offsets[at:at + step]]
                positions[(op["thread"], p)] = at + step
        return "ok", reads

    return complete


@given(st.integers(1, 4), st.integers(1, 7), st.dictionaries(st.integers(0, 3), st.integers(-1, 40)))
def test_final_reads_poll_until_every_worker_reached_every_target(workers, step, targets):
    log = {p: list(range(41)) for p in range(4)}
    history = simulate(final_reads(4, targets), workers, 0, complete=polls_returning(log, step))
    for thread in range(workers):
        ops = [op for op in history if op["thread"] == thread and op["type"] == "ok"]
        assert ops[0]["f"] == "assign" and ops[0]["value"] == [0, 1, 2, 3]
        reached = {}
        for op in ops[1:]:
            for p, records in op["value"].items():
                reached[int(p)] = max(o for o, _ in records)
        assert all(reached.get(p, -1) >= target for p, target in targets.items())
        # It stopped at the first poll that reached the last target.
        needed = max([-(-(t + 1) // step) for t in targets.values() if t >= 0], default=0)
        assert len(ops) - 1 == max(needed, 1)


def test_final_reads_assign_again_after_an_unknown_outcome():
    outcomes = iter(["info", "ok", "ok", "ok"])

    def complete(op):
        if op["f"] == "assign":
            return "ok", op["value"]
        return next(outcomes), {"0": [[0, 0]]}

    history = simulate(final_reads(1, {0: 0}), 1, 0, complete=complete)
    assert [(op["f"], op["type"]) for op in history if op["type"] != "invoke"] == [
        ("assign", "ok"), ("poll", "info"), ("assign", "ok"), ("poll", "ok")]


def test_final_reads_give_up_at_their_time_limit():
    history = simulate(TimeLimit(SECOND, final_reads(1, {0: 5})), 2, 0, complete=lambda op: ("ok", {}))
    assert history and max(op["time"] for op in history if op["type"] == "invoke") < SECOND


def test_highest_acknowledged_offsets_per_partition():
    history = [
        {"f": "send", "type": "ok", "value": {"partition": 0, "offset": 4, "value": 1}},
        {"f": "send", "type": "ok", "value": {"partition": 0, "offset": 2, "value": 2}},
        {"f": "send", "type": "ok", "value": {"partition": 1, "offset": None, "value": 3}},
        {"f": "send", "type": "info", "value": {"partition": 1, "value": 4}},
        {"f": "poll", "type": "ok", "value": {"1": [[9, 9]]}},
    ]
    assert highest_acknowledged(history) == {0: 4}


def test_final_targets_cover_acknowledged_and_existing_offsets():
    history = [{"f": "send", "type": "ok", "value": {"partition": 0, "offset": 9, "value": 1}}]
    # Partition 0 lost its acknowledged offset 9 (it ends at 5): reads must still aim at 9.
    assert final_targets(history, {0: 5, 1: 3, 2: 0}) == {0: 9, 1: 2, 2: -1}
    assert final_targets(history, {}) == {0: 9}
