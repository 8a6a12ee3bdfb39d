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


def polls_returning(log: dict[int, list[int]], step: int, starts: dict[int, int] | None = None):
    """A consumer that reads `step` records per poll from each partition's log (its offsets), from where it is: at
    first its partition's log start (`starts`, 0 by default), which log-starts reports."""
    starts = starts or {}
    positions: dict = {}

    def complete(op):
        if op["f"] == "log-starts":
            return "ok", {str(p): starts.get(p, 0) for p in op["value"]}
        if op["f"] == "assign":
            for p in op["value"]:
                positions[(op["thread"], p)] = starts.get(p, 0)
            return "ok", op["value"]
        reads = {}
        for p, offsets in log.items():
            read = [o for o in offsets if o >= positions.get((op["thread"], p), 0)][:step]
            if read:
                reads[str(p)] = [[o, o * 10] for o in read]
                positions[(op["thread"], p)] = read[-1] + 1
        return "ok", reads

    return complete


def outcomes(history) -> list[tuple[str, str]]:
    return [(op["f"], op["type"]) for op in history if op["type"] != "invoke"]


@given(st.integers(1, 4), st.integers(1, 7), st.dictionaries(st.integers(0, 3), st.integers(-1, 40)))
def test_final_reads_poll_until_every_worker_reached_every_target(workers, step, targets):
    log = {p: list(range(41)) for p in range(4)}
    history = simulate(final_reads(4, targets), workers, 0, complete=polls_returning(log, step))
    for thread in range(workers):
        ops = [op for op in history if op["thread"] == thread and op["type"] == "ok"]
        assert [(op["f"], op["value"]) for op in ops[:2]] == [
            ("log-starts", {"0": 0, "1": 0, "2": 0, "3": 0}), ("assign", [0, 1, 2, 3])]
        reached = {}
        for op in ops[2:]:
            assert op["f"] == "poll"
            for p, records in op["value"].items():
                reached[int(p)] = max(o for o, _ in records)
        assert all(reached.get(p, -1) >= target for p, target in targets.items())
        # It stopped at the first poll that reached the last target.
        needed = max([-(-(t + 1) // step) for t in targets.values() if t >= 0], default=0)
        assert len(ops) - 2 == max(needed, 1)


@given(st.integers(1, 3), st.integers(1, 40), st.data())
def test_final_reads_stop_at_targets_that_retention_deleted(workers, start, data):
    """Retention deleted all of partition 0 (it starts at its end): its target can never be read, and the
    readers are done once they read partition 1's."""
    target = data.draw(st.integers(0, start - 1))
    log = {0: [], 1: list(range(5))}
    reads = TimeLimit(10 * SECOND, final_reads(2, {0: target, 1: 4}))
    history = simulate(reads, workers, 0, complete=polls_returning(log, 100, {0: start}))
    for thread in range(workers):
        ops = [op for op in history if op["thread"] == thread and op["type"] == "ok"]
        assert [op["f"] for op in ops] == ["log-starts", "assign", "poll"]
        assert ops[0]["value"] == {"0": start, "1": 0}


def test_final_reads_ask_for_the_log_starts_again_between_reads_until_they_are_known():
    """A leader just restarted may be slow to answer ListOffsets: the worker reads meanwhile, and is not done
    before it has the log starts the checker needs. An unknown outcome also means a fresh client: assign again."""
    for outcome in ("fail", "info"):
        answers = iter([outcome, outcome, "ok"])

        def complete(op):
            if op["f"] == "log-starts":
                answer = next(answers)
                return answer, {"0": 0} if answer == "ok" else op["value"]
            return "ok", op["value"] if op["f"] == "assign" else {"0": [[0, 0]]}

        history = simulate(final_reads(1, {0: 0}), 1, 0, complete=complete)
        then = [("assign", "ok"), ("log-starts", "ok"), ("poll", "ok")] if outcome == "info" else [
            ("poll", "ok"), ("log-starts", "ok")]
        assert outcomes(history) == [("log-starts", outcome), ("assign", "ok"), ("log-starts", outcome), *then]


def test_final_reads_keep_reading_while_the_log_starts_never_come():
    def complete(op):
        if op["f"] == "log-starts":
            return "fail", op["value"]
        return "ok", op["value"] if op["f"] == "assign" else {"0": [[0, 0]]}

    history = simulate(TimeLimit(SECOND, final_reads(1, {0: 0})), 1, 0, complete=complete)
    fs = [f for f, _ in outcomes(history)]
    assert fs[:4] == ["log-starts", "assign", "log-starts", "poll"]
    assert fs[3::2] == ["poll"] * len(fs[3::2]) and fs[2::2] == ["log-starts"] * len(fs[2::2])


def test_final_reads_assign_again_after_an_unknown_outcome():
    polls = iter(["info", "ok", "ok", "ok"])

    def complete(op):
        if op["f"] == "log-starts":
            return "ok", {"0": 0}
        if op["f"] == "assign":
            return "ok", op["value"]
        return next(polls), {"0": [[0, 0]]}

    history = simulate(final_reads(1, {0: 0}), 1, 0, complete=complete)
    assert outcomes(history) == [("log-starts", "ok"), ("assign", "ok"), ("poll", "info"), ("assign", "ok"),
                                 ("poll", "ok")]


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
