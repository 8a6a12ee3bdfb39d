"""Which named faults a run started, how their starts ended, and which never ran, through run_checks and the
end-of-run summary and report."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from checkers.fault_coverage import fault_coverage
from harness.history import pair
from logquake.report import render_report
from logquake.runner import summary
from tests.checkers.histories import TEST, History, checked

NAMED = {**TEST, "nemesis": ["kill", "pause", "partition"]}


def started_kill_and_failed_pause() -> History:
    h = History()
    h.send(0, 0, 10, 0)
    h.nemesis("start-kill", "one", ["b2"])
    h.nemesis("stop-kill", None, ["b2"])
    h.op("nemesis", "start-pause", "all", "fail")
    h.nemesis("start-kill", "one", ["b1"])
    h.nemesis("stop-kill", None, ["b1"])
    h.assign(1, [0])
    h.poll(1, {0: [(0, 10)]})
    return h


def test_a_named_fault_that_never_started_is_called_out(tmp_path: Path) -> None:
    results = checked(NAMED, started_kill_and_failed_pause().events, tmp_path)
    faults = results["faults"]
    assert faults["by_fault"]["kill"] == {"ok": 2, "fail": 0, "info": 0, "nodes": ["b1", "b2"]}
    assert faults["by_fault"]["pause"] == {"ok": 0, "fail": 1, "info": 0, "nodes": []}
    assert faults["not_run"] == ["pause", "partition"]
    text = summary(results, tmp_path)
    assert "never started: pause, partition" in text
    faults_table = text.split("faults started:")[1]
    assert [line.split() for line in faults_table.splitlines() if line.startswith("kill")][0] == [
        "kill", "2", "0", "0", "b1,b2"]
    assert "Named but never started: pause, partition" in render_report(tmp_path, NAMED, results)


def test_a_run_without_faults_has_no_fault_section(tmp_path: Path) -> None:
    results = checked(TEST, started_kill_and_failed_pause().events, tmp_path)
    assert "faults" not in results
    assert "faults started" not in summary(results, tmp_path)


@given(st.lists(st.sampled_from(["kill", "pause", "partition", "clock-bump"]), max_size=12))
def test_every_named_fault_that_started_ok_is_not_listed_as_unrun(started):
    h = History()
    for n, fault in enumerate(started):
        h.nemesis(f"start-{fault}", "one", [f"b{n % 3 + 1}"])
        h.nemesis(f"stop-{fault}", None, [f"b{n % 3 + 1}"])
    coverage = fault_coverage({"nemesis": ["kill", "pause", "partition", "clock-bump"]}, pair(h.events))
    assert set(coverage["not_run"]) == {"kill", "pause", "partition", "clock-bump"} - set(started)
    assert {fault: s["ok"] for fault, s in coverage["by_fault"].items() if s["ok"]} == {
        fault: started.count(fault) for fault in set(started)}
