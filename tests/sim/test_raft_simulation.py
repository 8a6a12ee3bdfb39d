"""Seeded simulation of Raft clusters under faults: safety, linearizability and liveness.

Each seed is a whole schedule (cluster size, network odds, faults, client operations); a
failing one names its replay command. `make sim` searches far more seeds than this suite.
"""

from __future__ import annotations

import pytest

from cluster.sim.raft.schedule import run_schedule
from cluster.sim.raft.search import replay_command
from tests.sim import broken_cores
from tests.sim.determinism import outputs_under_hash_seeds

CHUNK = 100
SUITE_SEEDS = range(0, 1500)


@pytest.mark.slow
@pytest.mark.parametrize("first", range(SUITE_SEEDS.start, SUITE_SEEDS.stop, CHUNK))
def test_seeded_schedules_keep_raft_safe_live_and_linearizable(first: int) -> None:
    failures = []
    for seed in range(first, first + CHUNK):
        result = run_schedule(seed)
        if result.violations:
            failures.append(result.describe(replay_command(seed)))
    assert not failures, "\n".join(failures)


def test_a_seed_replays_exactly() -> None:
    first, second = run_schedule(11), run_schedule(11)
    assert first.events == second.events and first.virtual_time == second.virtual_time
    assert first.timeline == second.timeline
    assert first.history == second.history
    assert any(op.outcome == "ok" for op in first.history.ops)


def test_a_seed_replays_identically_in_another_process_with_other_hash_seeds() -> None:
    script = (
        "import zlib; from cluster.sim.raft.schedule import run_schedule; r = run_schedule(57); "
        "print(r.events, r.virtual_time, zlib.crc32(repr((r.history.ops, r.timeline)).encode()))"
    )
    assert len(outputs_under_hash_seeds(script)) == 1


def test_schedules_include_faults_and_unknown_outcomes() -> None:
    results = [run_schedule(seed) for seed in range(20)]
    timeline = [what for result in results for _, what in result.timeline]
    assert any(what.startswith("crash") for what in timeline)
    assert any(what.startswith("partition") or what.startswith("isolate") for what in timeline)
    assert any(what.startswith("transfer") for what in timeline)
    outcomes = {op.outcome for result in results for op in result.history.ops}
    assert outcomes == {"ok", "fail", "info"}


def _first_failure(core: type, seeds: range) -> tuple[int, list[str], str]:
    for seed in seeds:
        result = run_schedule(seed, core=core)
        if result.violations:
            replay = f"run_schedule({seed}, core=broken_cores.{core.__name__})"
            return seed, result.violations, result.describe(replay)
    raise AssertionError(f"{core.__name__} survived seeds {seeds}: the checks cannot see its bug")


@pytest.mark.parametrize(
    ("core", "property_name"),
    [
        (broken_cores.CommitsWithoutMajority, "leader completeness"),
        (broken_cores.VotesTwice, "election safety"),
        (broken_cores.TruncatesAtTheWrongPoint, "log matching"),
        (broken_cores.NeverCampaigns, "liveness"),
        (broken_cores.ReadsLocally, "linearizability"),
        (broken_cores.SkipsACommittedEntry, "state machine safety"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_deliberately_broken_cores_are_caught_and_replay_identically(core: type, property_name: str) -> None:
    seed, violations, message = _first_failure(core, range(0, 200))
    assert any(property_name in v for v in violations), violations
    assert f"seed {seed}" in message and f"run_schedule({seed}, core=" in message
    assert run_schedule(seed, core=core).violations == violations
