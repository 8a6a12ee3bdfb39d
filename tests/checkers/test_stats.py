"""Stats per f and outcome, and fault intervals from nemesis ops."""

from __future__ import annotations

from checkers.faults import fault_intervals
from checkers.stats import check_stats
from harness.history import pair
from tests.checkers.histories import History


def test_counts_rates_and_latencies_per_f_and_outcome() -> None:
    h = History()
    h.send(0, 0, 1, 0)                 # 1 ms latency each: invoke and completion are 1 ms apart
    h.send(0, 0, 2, type="fail")
    h.send(0, 0, 3, type="info")
    h.poll(1, {0: [(0, 1)]})
    h.send(2, 0, 4, type=None)         # never completes
    h.nemesis("start-kill", "one", ["b1"])
    stats = check_stats(pair(h.events))
    assert stats["valid"] is True
    assert stats["duration_s"] == (len(h.events) - 1) / 1000
    send = stats["by_f"]["send"]
    assert {k: send[k] for k in ("count", "ok", "fail", "info")} == {"count": 4, "ok": 1, "fail": 1, "info": 2}
    assert send["rate_per_s"] == 4 / stats["duration_s"]
    assert send["ok_rate_per_s"] == 1 / stats["duration_s"]
    assert send["latency_ms"] == {"p50": 1.0, "p95": 1.0, "p99": 1.0, "max": 1.0}
    assert stats["total"]["count"] == 5
    assert stats["nemesis"] == {"start-kill": {"ok": 1, "fail": 0, "info": 0}}


def test_quantiles_are_nearest_rank() -> None:
    h = History()
    for latency_ms in range(1, 101):
        h.event(0, "invoke", "poll", None)
        h.now_ns += (latency_ms - 1) * 1_000_000
        h.event(0, "ok", "poll", {})
    latency = check_stats(pair(h.events))["by_f"]["poll"]["latency_ms"]
    assert latency == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}


def test_a_kind_of_op_that_never_succeeded_makes_stats_unknown() -> None:
    h = History()
    h.send(0, 0, 1, 0)
    h.poll(1, {}, type="fail")
    stats = check_stats(pair(h.events))
    assert stats["valid"] == "unknown"
    assert stats["reason"] == "no poll ever succeeded"
    assert check_stats([])["valid"] == "unknown"


def test_fault_intervals_run_from_start_invoke_to_stop_completion() -> None:
    h = History()
    start = h.nemesis("start-kill", "one", ["b2"])
    stop = h.nemesis("stop-kill", None, ["b2"])
    h.op("nemesis", "start-pause", "majority", "fail")
    pause = h.nemesis("start-pause", "majority", ["b1", "b3"])
    intervals = fault_intervals(pair(h.events))
    assert [(i.fault, i.start, i.end, i.label) for i in intervals] == [
        ("kill", h.events[start - 1]["time"], h.events[stop]["time"], "kill b2"),
        ("pause", h.events[pause - 1]["time"], None, "pause b1,b3"),
    ]


def test_a_fault_label_names_its_parameters() -> None:
    h = History()
    h.op("nemesis", "start-latency", "one", "ok",
         {"nodes": ["b1"], "parameters": {"latency_ms": 500, "jitter_ms": 50, "links": "replication"}})
    [interval] = fault_intervals(pair(h.events))
    assert interval.label == "latency b1 (latency_ms=500, jitter_ms=50, links=replication)"
