"""A slow, failing or full disk on one broker under acks=all: the run stays valid, and each fault shows
as Kafka users would see it (slower sends, a broker that takes itself down, produce refused for space)."""

from __future__ import annotations

import statistics

from harness.history import pair
from tests.disk_faults.runs import QUEUE, disk_run
from tests.e2e.runs import WatchedRun

DEGRADE = ["--nemesis-interval", "6", "--seed", "2"]


def fault_windows(watched: WatchedRun, fault: str) -> list[tuple[int, int]]:
    """(start, end) times of each interval the fault was in force, from its ok start to its ok stop."""
    windows, began = [], None
    for op in watched.history():
        if op["process"] == "nemesis" and op["type"] == "ok":
            if op["f"] == f"start-{fault}":
                began = op["time"]
            elif op["f"] == f"stop-{fault}" and began is not None:
                windows.append((began, op["time"]))
                began = None
    return windows


def send_latencies(watched: WatchedRun) -> list[tuple[int, int]]:
    """(invoke time, latency) of every acknowledged send."""
    return [(op.start, op.end - op.start) for op in pair(watched.history())
            if op.f == "send" and op.type == "ok"]


def test_a_slow_disk_on_the_partition_leader_slows_sends_while_it_lasts_and_loses_nothing(tmp_path):
    watched = disk_run(tmp_path / "store", [*QUEUE, *DEGRADE, "--nemesis", "slow-disk",
                                            "--nemesis-targets", "partition-leader",
                                            "--nemesis-option", "write-delay-ms=40"])
    assert watched.code == 0, watched.output
    windows = fault_windows(watched, "slow-disk")
    assert windows
    during, outside = [], []
    for time, latency in send_latencies(watched):
        (during if any(start <= time < end for start, end in windows) else outside).append(latency)
    assert during and outside
    assert statistics.median(during) > statistics.median(outside), (statistics.median(during),
                                                                    statistics.median(outside))


def test_a_failing_disk_takes_its_broker_down_and_the_others_serve_on(tmp_path):
    watched = disk_run(tmp_path / "store", [*QUEUE, *DEGRADE, "--nemesis", "disk-error", "--nemesis-targets", "one"])
    assert watched.code == 0, watched.output
    stops = [op["value"] for op in watched.history() if op["process"] == "nemesis"
             and op["f"] == "stop-disk-error" and op["type"] == "ok" and op["value"]["nodes"]]
    assert any(stop["restarted"] for stop in stops), stops
    halted = {node for stop in stops for node in stop["restarted"]}
    logs = "".join((watched.run_dir / "nodes" / node / "node.log").read_text() for node in halted)
    assert "Shutdown broker because all log dirs" in logs
    assert watched.results["queue"]["summary"]["sends"]["ok"] > 100


def test_a_full_disk_refuses_produce_for_space_and_loses_nothing(tmp_path):
    watched = disk_run(tmp_path / "store", [*QUEUE, *DEGRADE, "--nemesis", "disk-full", "--nemesis-targets", "one"])
    assert watched.code == 0, watched.output
    assert fault_windows(watched, "disk-full")
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.results["queue"]["summary"]["sends"]["ok"] > 100
