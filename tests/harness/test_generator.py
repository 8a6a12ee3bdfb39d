"""Generators on a virtual clock: deterministic per seed, rates, limits and phases respected."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.generator import (
    SECOND,
    Fn,
    Limit,
    Mix,
    Repeat,
    Sleep,
    TimeLimit,
    any_of,
    clients,
    each_thread,
    nemesis,
    once,
    phases,
    rate,
    repeat_op,
    stagger,
)
from harness.history import NEMESIS
from logquake.interpreter import simulate
from nemesis.schedule import FaultSchedule, heal_all

seeds = st.integers(0, 2**32)
workers = st.integers(1, 6)
MS = SECOND // 1000


def random_latency(seed: int, longest_ms: int = 50):
    rng = random.Random(seed)
    return lambda op: rng.randrange(1, longest_ms) * MS


def invokes(history, f=None):
    return [op for op in history if op["type"] == "invoke" and (f is None or op["f"] == f)]


def workload(limit_s: float = 3):
    sends = Fn(lambda rng: {"f": "send", "value": rng.randrange(1000)})
    polls = repeat_op("poll")
    main = any_of(
        clients(stagger(50, Mix((sends, polls)))),
        nemesis(FaultSchedule(("pause", "kill"), ("one", "majority"), SECOND // 2)),
    )
    return phases(
        clients(each_thread(once("assign", [0, 1]))),
        TimeLimit(round(limit_s * SECOND), main),
        nemesis(heal_all(["pause", "kill"])),
    )


@settings(max_examples=25)
@given(seeds, seeds, workers)
def test_same_seed_same_operations(seed, latency_seed, n):
    first = simulate(workload(), n, seed, random_latency(latency_seed))
    second = simulate(workload(), n, seed, random_latency(latency_seed))
    assert first == second
    assert invokes(first, "send")


def test_different_seeds_differ():
    assert simulate(workload(), 3, 1) != simulate(workload(), 3, 2)


@settings(max_examples=25)
@given(seeds, seeds, workers, st.sampled_from([5, 20, 100, 400]))
def test_rate_is_a_hard_limit_in_virtual_time(seed, latency_seed, n, per_second):
    gen = TimeLimit(2 * SECOND, clients(rate(per_second, repeat_op("poll"))))
    times = [op["time"] for op in invokes(simulate(gen, n, seed, random_latency(latency_seed)))]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= SECOND // per_second - 1 for gap in gaps)
    assert len(times) <= 2 * per_second + 1


@settings(max_examples=25)
@given(seeds)
def test_stagger_averages_its_rate(seed):
    gen = Limit(400, clients(stagger(100, repeat_op("poll"))))
    times = [op["time"] for op in invokes(simulate(gen, 4, seed, lambda op: MS))]
    mean_gap = (times[-1] - times[0]) / (len(times) - 1)
    assert 0.8 * SECOND / 100 <= mean_gap <= 1.2 * SECOND / 100


@settings(max_examples=10)
@given(seeds, seeds)
def test_stagger_keeps_its_rate_when_every_thread_is_sometimes_busy(seed, latency_seed):
    """Two workers whose ops take up to 30 ms can do 100 a second, though often both are busy when one is due:
    the ops that waited for a thread do not push back the later ones."""
    gen = TimeLimit(20 * SECOND, clients(stagger(100, repeat_op("poll"))))
    assert len(invokes(simulate(gen, 2, seed, random_latency(latency_seed, 30)))) >= 0.95 * 20 * 100


@settings(max_examples=10)
@given(seeds, workers)
def test_stagger_drops_what_a_long_stall_missed_rather_than_bursting(seed, n):
    """Every op due in [1 s, 1.1 s) takes 5 s: the workers are all stuck for about 5 s of the 10, and what was due
    meanwhile is not sent afterwards (only CATCH_UP's worth is made up)."""
    def latency(op):
        return 5 * SECOND if SECOND <= op["time"] < SECOND + SECOND // 10 else MS

    times = [op["time"] for op in invokes(simulate(TimeLimit(10 * SECOND, clients(stagger(100, repeat_op("poll")))),
                                                   n, seed, latency))]
    assert 0.8 * 100 * 5 < len(times) < 100 * 6


@settings(max_examples=25)
@given(seeds, seeds, workers)
def test_time_limit_emits_nothing_at_or_after_its_deadline(seed, latency_seed, n):
    gen = phases(Sleep(SECOND), TimeLimit(SECOND, clients(stagger(200, repeat_op("poll")))))
    history = simulate(gen, n, seed, random_latency(latency_seed))
    times = [op["time"] for op in invokes(history)]
    assert times and min(times) >= SECOND and max(times) < 2 * SECOND


@settings(max_examples=25)
@given(seeds, seeds, workers)
def test_phases_run_in_order_and_wait_for_completions(seed, latency_seed, n):
    gen = phases(
        clients(Limit(7, repeat_op("first"))),
        clients(each_thread(once("second"))),
        clients(Limit(3, repeat_op("third"))),
    )
    history = simulate(gen, n, seed, random_latency(latency_seed))
    fs = [op["f"] for op in history]
    assert fs.count("first") == 14 and fs.count("second") == 2 * n and fs.count("third") == 6
    last_index = {f: max(i for i, op in enumerate(fs) if op == f) for f in ("first", "second")}
    first_index = {f: min(i for i, op in enumerate(fs) if op == f) for f in ("second", "third")}
    assert last_index["first"] < first_index["second"]
    assert last_index["second"] < first_index["third"]
    assert sorted(op["thread"] for op in invokes(history, "second")) == list(range(n))


@settings(max_examples=25)
@given(seeds, workers)
def test_threads_never_run_two_operations_at_once(seed, n):
    in_flight: set = set()
    for op in simulate(workload(2), n, seed, random_latency(seed)):
        if op["type"] == "invoke":
            assert op["thread"] not in in_flight
            in_flight.add(op["thread"])
        else:
            in_flight.remove(op["thread"])
    assert not in_flight


@settings(max_examples=25)
@given(seeds)
def test_fault_schedule_alternates_start_and_stop(seed):
    gen = TimeLimit(10 * SECOND, nemesis(FaultSchedule(("pause", "kill"), ("one", "all"), SECOND)))
    ops = invokes(simulate(gen, 2, seed))
    assert len(ops) == 9
    assert all(op["thread"] == NEMESIS for op in ops)
    for start, stop in zip(ops[::2], ops[1::2]):
        fault = start["f"].removeprefix("start-")
        assert start["f"].startswith("start-") and stop["f"] == f"stop-{fault}"
        assert start["value"] in ("one", "all")
    assert all(b["time"] - a["time"] >= SECOND for a, b in zip(ops, ops[1:]))
    assert ops[0]["time"] >= SECOND


@settings(max_examples=25)
@given(seeds, seeds, seeds)
def test_a_seed_repeats_the_faults_whatever_the_clients_drew(seed, one_run, another_run):
    def faults(interpreter_seed):
        schedule = FaultSchedule(("pause", "kill", "partition"), ("one", "majority", "all"), SECOND, seed)
        gen = TimeLimit(20 * SECOND, any_of(clients(Fn(lambda rng: {"f": "send", "value": rng.random()})),
                                            nemesis(schedule)))
        return [(op["f"], op["value"]) for op in invokes(simulate(gen, 3, interpreter_seed, random_latency(
            interpreter_seed))) if op["thread"] == NEMESIS]

    assert faults(one_run) == faults(another_run)


@settings(max_examples=50)
@given(seeds, st.lists(st.sampled_from(["kill", "pause", "partition", "slow-disk", "latency", "clock-bump"]),
                       min_size=1, max_size=6, unique=True), st.integers(1, 4))
def test_every_fault_starts_once_in_every_cycle(seed, faults, cycles):
    starts = len(faults) * cycles
    gen = TimeLimit(2 * starts * SECOND, nemesis(FaultSchedule(tuple(faults), ("one",), SECOND, seed)))
    started = [op["f"].removeprefix("start-") for op in invokes(simulate(gen, 1, 0)) if op["f"].startswith("start-")]
    assert len(started) == starts
    for cycle in range(cycles):
        assert sorted(started[cycle * len(faults):(cycle + 1) * len(faults)]) == sorted(faults)


def test_cycles_run_their_faults_in_seeded_shuffled_orders():
    def first_cycle(seed):
        gen = TimeLimit(8 * SECOND, nemesis(FaultSchedule(("kill", "pause", "partition", "clock-bump"), ("one",),
                                                          SECOND, seed)))
        return tuple(op["f"] for op in invokes(simulate(gen, 1, 0)) if op["f"].startswith("start-"))

    assert first_cycle(7) == first_cycle(7)
    assert len({first_cycle(seed) for seed in range(20)}) > 1


def test_heal_stops_every_fault_kind():
    ops = invokes(simulate(nemesis(heal_all(["kill", "pause"])), 1, 0))
    assert [(op["f"], op["thread"]) for op in ops] == [("stop-kill", NEMESIS), ("stop-pause", NEMESIS)]


@settings(max_examples=25)
@given(seeds)
def test_repeat_restarts_a_sequence(seed):
    gen = clients(Repeat(phases(once("assign"), Limit(2, repeat_op("poll"))), times=3))
    assert [op["f"] for op in invokes(simulate(gen, 2, seed))] == ["assign", "poll", "poll"] * 3


def test_once_and_limit_count_operations():
    assert len(invokes(simulate(clients(once("x")), 3, 0))) == 1
    assert len(invokes(simulate(clients(Limit(5, repeat_op("x"))), 3, 0))) == 5


@settings(max_examples=25)
@given(seeds)
def test_mix_draws_from_every_child(seed):
    gen = clients(Limit(200, Mix((repeat_op("a"), repeat_op("b"), Limit(3, repeat_op("c"))))))
    fs = [op["f"] for op in invokes(simulate(gen, 2, seed))]
    assert len(fs) == 200 and fs.count("c") == 3 and fs.count("a") > 20 and fs.count("b") > 20


def test_clients_and_nemesis_stay_on_their_threads():
    history = simulate(TimeLimit(3 * SECOND, any_of(clients(rate(10, repeat_op("c"))), nemesis(rate(2, repeat_op("n"))))), 2, 0)
    assert {op["thread"] for op in invokes(history, "c")} <= {0, 1}
    assert {op["thread"] for op in invokes(history, "n")} == {NEMESIS}


@settings(max_examples=10)
@given(seeds)
def test_mix_follows_its_weights(seed):
    gen = clients(Limit(1000, Mix((repeat_op("often"), repeat_op("rare")), (0.9, 0.1))))
    fs = [op["f"] for op in invokes(simulate(gen, 2, seed))]
    assert 30 < fs.count("rare") < 200
