"""Whole `logquake run`s with disk faults, for the durability claims: what each run is, and what it found.

Every run here puts the nodes' data directories on the fault filesystem (FUSE, root), so each test
first requires it; with CI=true a missing facility fails instead of skipping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluster.faultfs import fuse_unavailable
from tests.e2e.runs import THREE_NODES, WatchedRun, leftovers, logquake_run
from tests.facilities import require

QUEUE = ["--workload", "queue", "--acks", "all", *THREE_NODES, "--time-limit", "30", "--final-time-limit", "15",
         "--broker-override", "zookeeper.session.timeout.ms=6000", "--rate", "100", "--concurrency", "4",
         "--backend", "local"]
"""acks=all on three replicas with min ISR 2. A broker that lost power registers again only once its old
keeper session has expired, which a 6 s session makes quick. Final reads are bounded tighter than usual:
after a power loss of every broker the highest offsets read before may be gone for good, and the reads
would wait for them."""

REGISTER = ["--workload", "register", "--brokers", "0", "--keepers", "3", "--register-sync-reads",
            "--time-limit", "25", "--rate", "60", "--concurrency", "4", "--backend", "local"]
"""Reads sync first: without it a read may be stale, and a write lost to a power loss could pass as one."""

POWER_LOSS = ["--nemesis", "lose-unsynced", "--nemesis-interval", "8"]


def require_fuse() -> None:
    reason = fuse_unavailable()
    require(reason is None, "FUSE", reason or "")


def mounts_under(store: Path) -> list[str]:
    """Mount points below the store: what a run that ended must not have left."""
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(store.resolve()))]


def disk_run(store: Path, arguments: list[str]) -> WatchedRun:
    """A run that must complete (exit 0 valid or 1 invalid, never 2) and leave no process or mount behind."""
    require_fuse()
    watched = logquake_run(store, arguments)
    assert watched.code in (0, 1), watched.output
    assert not leftovers(watched)
    assert mounts_under(store) == []
    return watched


def power_losses(watched: WatchedRun) -> list[dict[str, Any]]:
    """The ok values of the run's power losses: which nodes lost power and what each one lost."""
    return [op["value"] for op in watched.history() if op["process"] == "nemesis"
            and op["f"] in ("start-lose-unsynced", "start-torn-write") and op["type"] == "ok"]


def lost_bytes(watched: WatchedRun) -> int:
    return sum(file["lost_bytes"] for loss in power_losses(watched) for node in loss["lost"].values()
               for file in node["files"])
