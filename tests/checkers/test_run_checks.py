"""run_checks composes the checkers into one verdict and writes the plots and the timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.compose import compose_validity, run_checks
from checkers.perf import FILES
from tests.checkers.histories import TEST, History, checked


def small_run(lose_a_write: bool) -> History:
    h = History()
    h.send(0, 0, 10, 0)
    h.send(0, 0, 11, 1)
    h.nemesis("start-kill", "partition-leader", ["b1"])
    h.nemesis("stop-kill", None, ["b1"])
    h.assign(1, [0])
    h.poll(1, {0: [(0, 10), (1, 12 if lose_a_write else 11)]})
    return h


def test_a_valid_run_writes_every_file(tmp_path: Path) -> None:
    results = checked(TEST, small_run(lose_a_write=False).events, tmp_path / "out")
    assert results["valid"] is True
    assert results["queue"]["valid"] is True and results["stats"]["valid"] is True
    assert results["files"] == [*FILES, "timeline.html"]
    assert all((tmp_path / "out" / f).is_file() for f in results["files"])
    assert "errors" not in results


def test_a_forbidden_anomaly_makes_the_run_invalid(tmp_path: Path) -> None:
    results = checked(TEST, small_run(lose_a_write=True).events, tmp_path)
    assert results["valid"] is False
    assert results["queue"]["anomalies"]["lost-write"]["forbidden"] == 1


def test_the_same_loss_under_acks_1_is_valid(tmp_path: Path) -> None:
    results = checked({**TEST, "acks": "1"}, small_run(lose_a_write=True).events, tmp_path)
    assert results["valid"] is True
    assert results["queue"]["anomalies"]["lost-write"]["allowed"] == 1


def test_the_workloads_results_are_filed_under_its_name_and_an_undecided_one_leaves_the_run_unknown(
        tmp_path: Path) -> None:
    results = run_checks({**TEST, "workload": "bank"}, small_run(False).events, tmp_path, "bank",
                         lambda test, history, out_dir: {"valid": "unknown", "reason": "no bank here"})
    assert results["valid"] == "unknown"
    assert results["bank"] == {"valid": "unknown", "reason": "no bank here"}
    assert results["stats"]["valid"] is True


def test_a_malformed_history_is_unknown_with_the_error_recorded(tmp_path: Path) -> None:
    h = small_run(False)
    h.events.append({"index": len(h.events), "time": h.now_ns + 1, "process": 7, "type": "ok", "f": "poll",
                     "value": {}})
    results = checked(TEST, h.events, tmp_path)
    assert results["valid"] == "unknown"
    assert results["errors"]["queue"] == f"HistoryError: op {len(h.events) - 1}: ok of process 7 completes nothing"
    assert set(results["errors"]) == {"queue", "stats", "availability", "perf", "clock", "timeline", "disk"}
    assert results["files"] == []


@pytest.mark.parametrize("verdicts, composed", [
    ([True, True], True), ([True, "unknown"], "unknown"), (["unknown", False], False), ([], True),
    ([True, None], "unknown"),
])
def test_composition(verdicts: list, composed: object) -> None:
    assert compose_validity(verdicts) == composed
