"""`logquake run --junit`: the run's verdict as one JUnit case."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from click.testing import CliRunner

from logquake.commands import make_run_command
from logquake.registry import WORKLOADS
from logquake.run_junit import run_case
from tests.harness.test_registry import CounterWorkload


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


def test_logquake_run_writes_its_junit_case(tmp_path: Path) -> None:
    registry = WORKLOADS.with_workload(CounterWorkload())
    junit = tmp_path / "reports" / "run.xml"

    ran = CliRunner().invoke(make_run_command(registry), [
        "--workload", "counter", "--brokers", "0", "--keepers", "1", "--backend", "local", "--time-limit", "2",
        "--rate", "50", "--concurrency", "2", "--store", str(tmp_path / "store"), "--junit", str(junit)])

    assert ran.exit_code == 0, ran.output
    (case,) = ElementTree.parse(junit).getroot().iter("testcase")
    assert case.get("name") == "counter-none-step1" and case.get("classname") == "logquake.run" and list(case) == []
    assert float(case.get("time") or 0) > 2
