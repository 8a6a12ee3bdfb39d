"""A whole `logquake run` with a disk fault: its option in test.json, the fault in force on every broker's fault
filesystem in the history, a valid verdict, and no process or mount left behind."""

from __future__ import annotations

import json
from pathlib import Path

from cluster.faultfs import fuse_unavailable
from harness.history import read_history
from tests.deploy.test_fault_disks import fault_mounts
from tests.facilities import require
from tests.harness.test_workload_runs import run


def test_a_queue_run_under_slow_disks_is_valid_and_leaves_no_mount(tmp_path: Path) -> None:
    reason = fuse_unavailable()
    require(reason is None, "FUSE", reason or "")
    results, run_dir = run(tmp_path, "--nemesis", "slow-disk", "--nemesis-targets", "all-brokers", "--nemesis-option",
                           "fsync-delay-ms=20", "--brokers", "3", "--keepers", "1", "--backend", "local",
                           "--time-limit", "12", "--nemesis-interval", "3", "--rate", "50", "--concurrency", "3")
    assert json.loads((run_dir / "test.json").read_text())["nemesis_options"] == {"fsync-delay-ms": "20"}
    started = [op["value"] for op in read_history(run_dir / "history.jsonl")
               if op["process"] == "nemesis" and op["f"] == "start-slow-disk" and op["type"] == "ok"]
    assert started and all(value["nodes"] == ["b1", "b2", "b3"] for value in started)
    assert started[0]["faults"]["fsync_delay"] == 0.02 and started[0]["faults"]["write_delay"] == 0.005
    assert results["stats"]["by_f"]["send"]["ok"] > 10
    assert fault_mounts(tmp_path) == []
