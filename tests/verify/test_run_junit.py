"""`logquake run --junit`: the run's verdict as one JUnit case."""

from __future__ import annotations

from pathlib import Path

from logquake.run_junit import run_case


def test_a_valid_run_passes() -> None:
    assert run_case("queue-kill", {"valid": True}, Path("r.html"), 3.0).outcome == "passed"


def test_an_invalid_run_fails_with_the_verdicts_reasons() -> None:
    results = {"valid": False, "queue": {"valid": False, "reasons": ["2 lost-write: forbidden by this configuration"]}}

    case = run_case("queue-kill", results, Path("store/q/report.html"), 3.0)

    assert case.outcome == "failure" and case.message == "2 lost-write: forbidden by this configuration"
    assert case.details.endswith("report: store/q/report.html")


def test_a_failed_or_undecided_run_is_an_error() -> None:
    failed = run_case("q", {"valid": True, "interrupted": True, "problem": "the run failed: OSError: x"}, Path("r"), 1)
    assert failed.outcome == "error" and failed.message == "the run failed: OSError: x"
    assert run_case("q", {"valid": "unknown"}, Path("r"), 1).outcome == "error"
