"""Seeded simulation of a replicated topic under faults, constructed losses, and cores broken on purpose.

Each seed is a whole schedule (partitions, election mode, acks levels, network odds, flushes,
crashes and partitions); a failing one names its replay command. `make sim` searches far more
seeds than this suite.
"""

from __future__ import annotations

import pytest

from cluster.broker.replication import PartitionReplica
from cluster.sim.replication import search as replication_search
from cluster.sim.replication.scenarios import (
    acks_one_leader_cut_off_before_followers_fetch,
    committed_writes_then_out_of_sync_replica_elected,
)
from cluster.sim.replication.schedule import run_schedule
from tests.replication import broken_cores
from tests.sim.determinism import outputs_under_hash_seeds

CHUNK = 50
SUITE_SEEDS = range(0, 500)


@pytest.mark.slow
@pytest.mark.parametrize("first", range(SUITE_SEEDS.start, SUITE_SEEDS.stop, CHUNK))
def test_seeded_schedules_lose_no_promised_write_and_keep_replicas_consistent(first: int) -> None:
    failures = []
    for seed in range(first, first + CHUNK):
        result = run_schedule(seed)
        if result.violations:
            failures.append(result.describe(replication_search.replay_command(seed)))
    assert not failures, "\n".join(failures)


def test_schedules_include_faults_every_outcome_and_losses_the_configuration_allows() -> None:
    results = [run_schedule(seed) for seed in range(30)]
    timeline = [what for result in results for _, what in result.timeline]
    assert any(what.startswith("crash") for what in timeline)
    assert any(what.startswith("partition") for what in timeline)
    outcomes = {write.outcome for result in results for write in result.writes}
    assert outcomes == {"ok", "fail", "unknown"}
    allowed = {lost.expected.split(" ")[0] for result in results for lost in result.lost}
    assert "acks=1" in allowed, "acks=1 loses acknowledged writes under these faults"
    assert any(result.settings.cluster.unclean for result in results)


def test_a_seed_replays_exactly() -> None:
    first, second = run_schedule(7), run_schedule(7)
    assert (first.events, first.virtual_time, first.timeline) == (second.events, second.virtual_time, second.timeline)
    assert first.writes == second.writes
    assert any(write.outcome == "ok" for write in first.writes)


def test_a_seed_replays_identically_in_another_process_with_other_hash_seeds() -> None:
    script = (
        "import zlib; from cluster.sim.replication.schedule import run_schedule; r = run_schedule(23); "
        "print(r.events, r.virtual_time, zlib.crc32(repr((r.writes, r.timeline)).encode()))"
    )
    assert len(outputs_under_hash_seeds(script)) == 1


def test_acks_1_writes_acknowledged_by_a_cut_off_leader_are_lost_and_detected() -> None:
    cluster = acks_one_leader_cut_off_before_followers_fetch(seed=1)
    acknowledged = [write for write in cluster.history.writes if write.outcome == "ok"]
    assert acknowledged and all(write.acks == 1 for write in acknowledged)
    assert {lost.write.value for lost in cluster.monitor.lost} == {write.value for write in acknowledged}
    assert all(lost.expected == "acks=1" for lost in cluster.monitor.lost)
    assert cluster.monitor.violations == []


def test_unclean_election_loses_committed_writes_and_the_loss_is_detected() -> None:
    cluster = committed_writes_then_out_of_sync_replica_elected(seed=1, unclean=True)
    acknowledged = [write for write in cluster.history.writes if write.outcome == "ok"]
    assert acknowledged and all(write.acks == -1 for write in acknowledged)
    assert {lost.write.value for lost in cluster.monitor.lost} == {write.value for write in acknowledged}
    assert all(lost.expected == "unclean leader election is enabled" for lost in cluster.monitor.lost)


def test_the_same_schedule_under_clean_election_loses_nothing() -> None:
    cluster = committed_writes_then_out_of_sync_replica_elected(seed=1, unclean=False)
    assert any(write.outcome == "ok" for write in cluster.history.writes)
    assert cluster.monitor.lost == [] and cluster.monitor.violations == []


def _first_failure(core: type[PartitionReplica], seeds: range) -> list[str]:
    for seed in seeds:
        result = run_schedule(seed, core=core)
        if result.violations:
            return result.violations
    raise AssertionError(f"{core.__name__} survived seeds {seeds}: the checks cannot see its bug")


@pytest.mark.parametrize(
    ("core", "symptom"),
    [
        (broken_cores.AcknowledgesAcksAllAtAppend, "acknowledged acks=all write"),
        (broken_cores.NeverTruncates, "differs from leader"),
        (broken_cores.TruncatesToHighWatermark, "differs from leader"),
    ],
)
def test_the_checks_catch_a_broken_core(core: type[PartitionReplica], symptom: str) -> None:
    violations = _first_failure(core, range(0, 100))
    assert any(symptom in violation for violation in violations), violations


def test_the_search_replays_a_seed_and_searches_a_range(capsys: pytest.CaptureFixture[str]) -> None:
    seed = next(seed for seed in range(100) if run_schedule(seed).lost)
    assert replication_search.main(["--seed", str(seed)]) == 0
    replay = capsys.readouterr().out
    assert "lost: value" in replay and "allowed: acks=" in replay and "no violation" in replay
    assert replication_search.main(["--seeds", "0:3"]) == 0
    assert "3 schedules" in capsys.readouterr().out


def test_a_failing_schedule_names_its_replay_command() -> None:
    broken = broken_cores.AcknowledgesAcksAllAtAppend
    seed = next(seed for seed in range(100) if run_schedule(seed, core=broken).violations)
    result = run_schedule(seed, core=broken)
    described = result.describe(replication_search.replay_command(seed))
    assert described.startswith(f"seed {seed} failed: ") and result.violations[0] in described
    assert f"replay: python -m cluster.sim.replication.search --seed {seed}" in described
