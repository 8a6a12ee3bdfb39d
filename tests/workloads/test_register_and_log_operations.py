"""The register and log workloads' schedules on a virtual clock: what ops, on which keys, how reproducibly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.generator import SECOND, Limit, TimeLimit
from logquake.interpreter import simulate
from logquake.registry import WORKLOADS
from workloads.log.operations import final_reads
from workloads.log.operations import main_phase as log_phase
from workloads.register.operations import FINAL_READS_PER_SECOND, VALUES, RegisterOps, touched_keys
from workloads.register.operations import final_reads as register_final_reads
from workloads.register.operations import main_phase as register_phase

seeds = st.integers(0, 2**32)


def invokes(history: list[dict]) -> list[dict]:
    return [op for op in history if op["type"] == "invoke"]


@settings(max_examples=10)
@given(seeds, st.integers(1, 5), st.integers(1, 4))
def test_register_ops_read_write_and_cas_small_values_on_the_spec_s_keys(seed, workers, keys):
    spec = WORKLOADS.spec(workload="register", brokers=0, rate=300, register_keys=keys)
    ops = invokes(simulate(TimeLimit(SECOND, register_phase(spec)), workers, seed))
    assert len(ops) > 50
    assert {op["f"] for op in ops} == {"read", "write", "cas"}
    assert {op["value"]["key"] for op in ops[:100]} <= set(range(keys))
    for op in ops:
        argument = op["value"]["value"]
        if op["f"] == "read":
            assert argument is None
        else:
            assert set([argument] if op["f"] == "write" else argument) <= set(range(VALUES))


def test_register_keys_are_fresh_after_each_generation_of_ops():
    history = simulate(Limit(40, RegisterOps(keys=2, ops_per_key=5)), 3, 1)
    keys = [op["value"]["key"] for op in invokes(history)]
    assert len(keys) == 40
    for generation in range(4):
        assert set(keys[generation * 10:(generation + 1) * 10]) <= {2 * generation, 2 * generation + 1}


def test_the_same_seed_gives_the_same_ops():
    spec = WORKLOADS.spec(workload="register", brokers=0, rate=200)
    runs = [[(op["f"], op["value"]) for op in invokes(simulate(TimeLimit(SECOND, register_phase(spec)), 3, 7))]
            for _ in range(2)]
    assert runs[0] == runs[1]


@settings(max_examples=10)
@given(seeds, st.integers(1, 4), st.frozensets(st.integers(0, 50), max_size=12), st.integers(0, 3))
def test_register_final_reads_read_each_register_until_one_read_of_it_succeeds(seed, workers, keys, failures):
    attempts: dict[int, int] = {}

    def complete(op):
        key = op["value"]["key"]
        attempts[key] = attempts.get(key, 0) + 1
        return ("fail" if attempts[key] <= failures else "ok"), op["value"]

    history = simulate(register_final_reads(keys), workers, seed, complete=complete)
    oks = [op["value"]["key"] for op in history if op["type"] == "ok"]
    assert sorted(oks) == sorted(keys)
    assert {op["f"] for op in history} <= {"read"}
    assert all(attempts[key] == failures + 1 for key in keys)
    starts = [op["time"] for op in invokes(history)]
    assert all(later - earlier >= SECOND // FINAL_READS_PER_SECOND for earlier, later in zip(starts, starts[1:]))


def test_the_registers_to_read_at_the_end_are_those_the_main_phase_named():
    spec = WORKLOADS.spec(workload="register", brokers=0, rate=300, register_keys=2)
    history = [{**op, "process": op["thread"]} for op in simulate(TimeLimit(SECOND, register_phase(spec)), 3, 5)]
    nemesis = {"process": "nemesis", "type": "invoke", "f": "start-kill", "value": {"key": 99}}
    assert touched_keys([*history, nemesis]) == {op["value"]["key"] for op in invokes(history)}


@settings(max_examples=10)
@given(seeds, st.integers(1, 5), st.integers(1, 4))
def test_log_ops_append_unique_values_and_read_real_partitions(seed, workers, partitions):
    spec = WORKLOADS.spec(workload="log", partitions=partitions, rate=300, brokers=1, replication_factor=1,
                          min_insync=1)
    ops = invokes(simulate(TimeLimit(SECOND, log_phase(spec)), workers, seed))
    appends = [op["value"] for op in ops if op["f"] == "append"]
    reads = [op["value"] for op in ops if op["f"] == "read"]
    assert len({a["value"] for a in appends}) == len(appends) > 20 and reads
    assert {op["partition"] for op in appends + reads} <= set(range(partitions))
    assert all(0 <= read["fraction"] < 1 for read in reads)


def test_log_final_reads_name_each_partition_s_highest_acknowledged_offset():
    history = [
        {"f": "append", "type": "ok", "value": {"partition": 0, "offset": 4, "value": 1}},
        {"f": "append", "type": "ok", "value": {"partition": 0, "offset": 7, "value": 2}},
        {"f": "append", "type": "info", "value": {"partition": 1, "value": 3}},
        {"f": "append", "type": "ok", "value": {"partition": 2, "offset": 0, "value": 4}},
        {"f": "read", "type": "ok", "value": {"partition": 1, "offset": 9, "value": 3}},
    ]
    targets, reads = final_reads(history)
    assert targets == {0: 7, 2: 0}
    assert [(op["f"], op["value"]) for op in invokes(simulate(reads, 2, 0))] == [
        ("read", {"partition": 0, "offset": 7}), ("read", {"partition": 2, "offset": 0})]
