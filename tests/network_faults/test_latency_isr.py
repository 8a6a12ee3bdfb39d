"""Claim: acks=all, RF 3, min ISR 2 under latency on the replication links longer than replica.lag.time.max.ms:
the followers drop out of the ISR and rejoin once the latency stops, no acknowledged write is lost, and the
run's plots name the latency with its parameters."""

from __future__ import annotations

from pathlib import Path

import psutil

from checkers.faults import fault_intervals
from harness.history import pair
from tests.e2e.runs import THREE_NODES, isr_changes, leftovers, logquake_run

LATENCY_MS = 1500
LAG_MS = 1000
SLOW_REPLICATION = ["--workload", "queue", "--nemesis", "latency", "--nemesis-targets", "partition-leader",
                    "--nemesis-interval", "8", "--nemesis-option", f"latency-ms={LATENCY_MS}",
                    "--nemesis-option", "links=replication", *THREE_NODES, "--partitions", "1", "--acks", "all",
                    "--broker-override", f"replica.lag.time.max.ms={LAG_MS}", "--time-limit", "30",
                    "--final-time-limit", "20", "--rate", "50", "--concurrency", "4", "--seed", "15",
                    "--backend", "local"]
"""The one partition's leader gets 1.5 s each way on its replication proxy (every fetch from it) for 8 s of
every 16: longer than the 1 s the brokers give a follower to catch up."""

def test_followers_leave_the_isr_under_replication_latency_and_rejoin_losing_nothing(tmp_path):
    watched = logquake_run(tmp_path / "store", SLOW_REPLICATION)
    assert watched.code == 0, watched.output
    assert {("start-latency", "ok"), ("stop-latency", "ok")} <= set(watched.nemesis_ops()), watched.output
    changes = isr_changes(watched.run_dir)
    assert any(after < before for before, after in changes), f"no ISR shrink: {changes}"
    assert any(after == 3 and before < 3 for before, after in changes), f"no follower rejoined: {changes}"
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.results["queue"]["final_reads"]["complete"] is True
    labels = [interval.label for interval in fault_intervals(pair(watched.history())) if interval.fault == "latency"]
    assert labels and all(f"latency_ms={LATENCY_MS}" in label and "links=replication" in label for label in labels)
    assert (watched.run_dir / "latency-raw.png").stat().st_size > 0
    assert not leftovers(watched)
    assert not _working_in(watched.run_dir), "the proxy server outlived the run"


def _working_in(directory: Path) -> list[str]:
    """Processes whose working directory is under the run's: the proxy server works in its own directory there."""
    found = []
    for process in psutil.process_iter(["cwd", "cmdline"]):
        if str(process.info["cwd"] or "").startswith(str(directory)):
            found.append(" ".join(process.info["cmdline"] or []))
    return found
