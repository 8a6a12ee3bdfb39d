"""The check_scale benchmark's synthetic queue runs: stored runs that check to the verdict they were made for."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._queue_history import ANOMALIES, write_run
from logquake.runner import check_run


@pytest.mark.parametrize("seed", [0, 1])
def test_a_correct_run_is_valid(tmp_path: Path, seed: int) -> None:
    results = check_run(write_run(tmp_path / "run", 3_000, seed=seed), plots=False)

    assert results["valid"] is True, results["queue"]["reasons"]
    assert results["queue"]["final_reads"]["attempted"]
    assert results["stats"]["by_f"]["send"]["info"] > 0  # a timeout, after which a fresh process assigned again


@pytest.mark.parametrize("anomaly", sorted(ANOMALIES))
def test_an_injected_anomaly_is_found(tmp_path: Path, anomaly: str) -> None:
    results = check_run(write_run(tmp_path / "run", 3_000, anomaly), plots=False)

    assert results["valid"] is False
    assert results["queue"]["anomalies"][ANOMALIES[anomaly]]["forbidden"] == 1


def test_faults_start_and_stop_on_a_broker(tmp_path: Path) -> None:
    results = check_run(write_run(tmp_path / "run", 45_000), plots=False)

    assert results["faults"]["by_fault"]["kill"] == {"ok": 1, "fail": 0, "info": 0, "nodes": ["b2"]}
    assert results["stats"]["nemesis"] == {"start-kill": {"ok": 1, "fail": 0, "info": 0},
                                           "stop-kill": {"ok": 1, "fail": 0, "info": 0}}
