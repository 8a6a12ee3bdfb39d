"""Unavailability windows and recoveries per fault and partition, and the availability claim, on constructed histories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.availability import check_availability, partition_windows
from harness.history import pair
from logquake.report import write_report
from logquake.runner import summary
from tests.checkers.histories import checked

MS = 1_000_000
TEST: dict[str, Any] = {"name": "queue", "workload": "queue", "acks": "all", "partitions": 3, "brokers": 3,
                        "keepers": 3, "replication_factor": 3, "min_insync": 2, "broker_overrides": {}}


class Timed:
    """Ops at given milliseconds; each op its own process, so any may overlap."""

    def __init__(self) -> None:
        self.raw: list[tuple[int, dict[str, Any]]] = []
        self.processes = 0

    def op(self, process: Any, f: str, value: Any, invoked_ms: float, done_ms: float | None, type: str = "ok",
           result: Any = None) -> None:
        self.raw.append((int(invoked_ms * MS), {"process": process, "type": "invoke", "f": f, "value": value}))
        if done_ms is not None:
            self.raw.append((int(done_ms * MS), {"process": process, "type": type, "f": f,
                                                 "value": value if result is None else result}))

    def send(self, partition: int, invoked_ms: float, done_ms: float | None, type: str = "ok") -> None:
        self.processes += 1
        value = {"partition": partition, "value": self.processes}
        self.op(self.processes, "send", value, invoked_ms, done_ms, type,
                {**value, "offset": self.processes} if type == "ok" else None)

    def fault(self, fault: str, nodes: list[str], start_ms: float, effect_ms: float, stop_ms: float | None = None,
              stopped_ms: float | None = None) -> None:
        self.op("nemesis", f"start-{fault}", "one", start_ms, effect_ms, result={"nodes": nodes})
        if stop_ms is not None:
            self.op("nemesis", f"stop-{fault}", None, stop_ms, stopped_ms, result={"nodes": nodes})

    @property
    def events(self) -> list[dict[str, Any]]:
        ordered = sorted(enumerate(self.raw), key=lambda numbered: (numbered[1][0], numbered[0]))
        return [{"index": i, "time": t, **event} for i, (_, (t, event)) in enumerate(ordered)]


def killed_b1() -> Timed:
    """b1 killed at 1 s (surely dead at 1.01 s), restarted at 5 s; it led partition 0."""
    h = Timed()
    h.fault("kill", ["b1"], 1000, 1010, 5000, 5020)
    h.send(0, 900, 905)
    h.send(0, 1001, 1005)            # acknowledged before the kill took hold: answers nothing
    h.send(0, 1100, 3000)            # waited for the election
    h.send(0, 1200, 2200, "info")
    h.send(1, 1005, 1015)            # partition 1's leader never went away
    h.send(1, 5030, 5034)
    h.send(0, 5030, 5040)
    return h


def by_partition(test: dict[str, Any], events: list[dict[str, Any]]) -> dict[int, Any]:
    return {w.partition: w for w in partition_windows(test, pair(events), "send")}


def test_the_killed_leaders_partition_is_unavailable_until_the_election_and_the_others_barely() -> None:
    windows = by_partition(TEST, killed_b1().events)
    assert (windows[0].outcome, windows[0].window_ns) == ("recovered", 2000 * MS)
    assert (windows[0].recovery, windows[0].recovery_ns) == ("recovered", 20 * MS)
    assert (windows[1].outcome, windows[1].window_ns) == ("recovered", 15 * MS)
    assert (windows[1].recovery, windows[1].recovery_ns) == ("recovered", 14 * MS)


def test_a_partition_without_sends_is_reported_as_such() -> None:
    windows = by_partition(TEST, killed_b1().events)
    assert (windows[2].outcome, windows[2].window_ns, windows[2].recovery, windows[2].recovery_ns) == (
        "no-sends", None, "no-sends", None)


def test_a_window_open_at_the_end_runs_to_the_end_of_the_history_and_a_fault_never_stopped_has_no_recovery() -> None:
    h = Timed()
    h.fault("pause", ["b1"], 1000, 1010)
    h.send(0, 1100, 4000, "info")
    h.send(1, 1100, 1110)
    h.send(1, 6000, 6010)
    window = by_partition(TEST, h.events)[0]
    assert (window.outcome, window.window_ns, window.recovery) == ("never-recovered", 5010 * MS, "not-stopped")


def test_a_window_may_close_only_after_the_fault_ends() -> None:
    h = Timed()
    h.fault("pause", ["b1"], 1000, 1010, 4000, 4010)
    h.send(0, 1100, 3000, "fail")
    h.send(0, 3500, 4050)
    window = by_partition(TEST, h.events)[0]
    assert (window.outcome, window.window_ns, window.recovery) == ("recovered", 3050 * MS, "no-sends")


def test_summaries_per_fault_kind() -> None:
    result = _checked(TEST, killed_b1().events)
    kill = result["by_fault"]["kill"]
    assert kill["faults"] == 1 and kill["no_sends"] == 1 and kill["never_recovered"] == 0
    assert kill["window_s"] == {"p50": 0.015, "max": 2.0}
    assert kill["recovery_s"] == {"p50": 0.014, "max": 0.02}
    assert result["valid"] is True and result["violations"] == [] and result["max_unavailable_s"] is None
    assert result["faults"][0]["partitions"]["0"] == {"outcome": "recovered", "window_s": 2.0,
                                                      "recovery": "recovered", "recovery_s": 0.02}


def test_a_window_over_max_unavailable_on_a_survivable_fault_is_a_violation() -> None:
    result = _checked({**TEST, "max_unavailable": 1.5}, killed_b1().events)
    assert result["valid"] is False
    assert result["violations"] == [{"fault": "kill b1", "partition": 0, "window_s": 2.0, "outcome": "recovered"}]
    assert "partition 0" in result["reasons"][0] and "kill b1" in result["reasons"][0]
    assert _checked({**TEST, "max_unavailable": 2.5}, killed_b1().events)["valid"] is True


def test_never_recovered_on_a_survivable_fault_is_a_violation() -> None:
    h = Timed()
    h.fault("kill", ["b2"], 1000, 1010, 3000, 3010)
    h.send(0, 1100, 2000, "fail")
    h.send(0, 3100, 4000, "info")
    result = _checked({**TEST, "max_unavailable": 2.0}, h.events)
    assert [v["outcome"] for v in result["violations"]] == ["never-recovered"], result


def survivable_under(test: dict[str, Any], fault: str, nodes: list[str]) -> bool:
    h = Timed()
    h.fault(fault, nodes, 1000, 1010, 3000, 3010)
    h.send(0, 1100, 2900)
    return _checked({**test, "max_unavailable": 1.0}, h.events)["valid"] is False


def test_which_faults_the_claim_judges() -> None:
    assert survivable_under(TEST, "kill", ["b1"])
    assert survivable_under(TEST, "pause", ["b3"])
    assert survivable_under(TEST, "restart", ["b2"])
    assert survivable_under(TEST, "isolate-leader", ["b1"])
    assert survivable_under({**TEST, "brokers": 5, "replication_factor": 5}, "kill", ["b1", "b2"])
    assert not survivable_under(TEST, "kill", ["b1", "b2"])          # a majority of the brokers
    assert not survivable_under(TEST, "kill", ["k1"])                # keepers are not judged
    assert not survivable_under(TEST, "partition", ["b1"])           # nor network faults
    assert not survivable_under({**TEST, "replication_factor": 2, "min_insync": 1}, "kill", ["b1"])
    assert not survivable_under({**TEST, "min_insync": 3}, "kill", ["b1"])


def test_run_checks_files_availability_and_it_decides_validity(tmp_path: Path) -> None:
    events = killed_b1().events
    valid = checked(TEST, events, tmp_path / "valid")
    assert valid["availability"]["valid"] is True
    invalid = checked({**TEST, "max_unavailable": 1.0}, events, tmp_path / "invalid")
    assert invalid["valid"] is False and invalid["queue"]["valid"] is not False
    assert invalid["availability"]["violations"][0]["partition"] == 0
    timeline = (tmp_path / "invalid" / "timeline.html").read_text()
    assert "partition 0 under kill b1: recovered, unavailable 2.000 s" in timeline
    text = summary(invalid, tmp_path / "invalid")
    assert "availability of sends per partition:" in text and "verdict: INVALID" in text
    assert "partition 0 unavailable for 2.00 s" in text
    (tmp_path / "invalid" / "test.json").write_text(json.dumps({**TEST, "max_unavailable": 1.0}))
    (tmp_path / "invalid" / "results.json").write_text(json.dumps(invalid))
    report = write_report(tmp_path / "invalid").read_text()
    assert "INVALID: a partition stayed unwritable longer than the availability claim allows" in report
    assert "<h2>Availability</h2>" in report and "kill b1 *" in report


def test_workloads_without_partition_writes_get_no_availability_section(tmp_path: Path) -> None:
    h = Timed()
    h.fault("kill", ["b1"], 1000, 1010, 3000, 3010)
    h.op(1, "read", {"key": 0}, 1100, 1200, result={"key": 0, "value": None})
    results = checked({"name": "register", "workload": "register"}, h.events, tmp_path)
    assert "availability" not in results


sends = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.integers(0, 3_000),
                           st.sampled_from(["ok", "ok", "fail", "info"])), max_size=40)


@settings(max_examples=200, deadline=None)
@given(sends, st.integers(0, 8_000), st.integers(0, 500), st.one_of(st.none(), st.integers(1, 5_000)))
def test_windows_and_recoveries_are_never_negative_nor_closed_before_the_fault_took_effect(
        drawn: list[tuple[int, int, int, str]], start: int, effect: int, duration: int | None) -> None:
    h = Timed()
    h.fault("kill", ["b1"], start, start + effect, *(() if duration is None else
                                                       (start + effect + duration, start + effect + duration + 1)))
    for partition, invoked, latency, outcome in drawn:
        h.send(partition, invoked, invoked + latency, outcome)
    for window in partition_windows(TEST, pair(h.events), "send"):
        assert window.window_ns is None or window.window_ns >= 0
        assert window.recovery_ns is None or window.recovery_ns >= 0
        if window.outcome == "recovered":
            assert window.window_ns >= effect * MS


@settings(max_examples=200, deadline=None)
@given(sends, st.integers(0, 8_000), st.integers(0, 500))
def test_a_window_closes_at_the_earliest_acknowledgement_invoked_after_the_start_and_after_the_effect(
        drawn: list[tuple[int, int, int, str]], start: int, effect: int) -> None:
    h = Timed()
    h.fault("kill", ["b1"], start, start + effect)
    for partition, invoked, latency, outcome in drawn:
        h.send(partition, invoked, invoked + latency, outcome)
    for window in partition_windows(TEST, pair(h.events), "send"):
        mine = [(invoked, invoked + latency, outcome) for p, invoked, latency, outcome in drawn
                if p == window.partition and invoked >= start]
        answers = [done for _, done, outcome in mine if outcome == "ok" and done >= start + effect]
        assert window.outcome == ("recovered" if answers else "never-recovered" if mine else "no-sends")
        history_end = max(event["time"] for event in h.events)
        assert window.closes_at == (min(answers) * MS if answers else history_end if mine else None)


@settings(max_examples=200, deadline=None)
@given(st.integers(20, 200), st.integers(1, 50), st.integers(0, 100), st.integers(0, 2_000))
def test_sends_that_keep_succeeding_close_the_window_within_a_gap_and_a_latency_of_the_fault_taking_effect(
        gap: int, latency: int, effect: int, start: int) -> None:
    h = Timed()
    h.fault("kill", ["b1"], start, start + effect, start + effect + 1_000, start + effect + 1_001)
    for invoked in range(0, start + effect + 3_000, gap):
        h.send(0, invoked, invoked + latency)
    window = by_partition(TEST, h.events)[0]
    assert window.outcome == "recovered"
    assert window.window_ns <= (effect + gap + latency) * MS
    assert window.recovery_ns <= (gap + latency) * MS


def _checked(test: dict, events: list) -> dict:
    return check_availability(test, partition_windows(test, pair(events), "send"), "send")
