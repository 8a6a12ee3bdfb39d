"""RabbitMQ as the system under test, end to end on each backend: three nodes (processes or containers), a quorum
queue, nodes killed and restarted, paused, or cut off from their peers, under confirmed enqueues and acknowledged
dequeues; no confirmed message may be lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.deploy import node_cgroups
from cluster.deploy.image import docker_unavailable
from cluster.deploy.rabbitmq import unavailable_reason
from tests.e2e.runs import WatchedRun, leftovers, logquake_run
from tests.facilities import require


@pytest.mark.parametrize("fault", ["kill", "partition"])
def test_a_quorum_queue_under_faults_loses_no_confirmed_message_and_the_run_leaves_nothing(tmp_path, fault):
    require(unavailable_reason() is None, "rabbitmq-server", str(unavailable_reason()))
    if fault == "partition":
        require(node_cgroups.unavailable_reason() is None, "partitions between local processes",
                str(node_cgroups.unavailable_reason()))
    watched = _quorum_run(tmp_path, fault, ["--nemesis-interval", "6", "--time-limit", "25", "--backend", "local"])
    assert len(watched.pids) >= 3, f"saw only the node processes {watched.pids}"
    assert not any(path.exists() for path in watched.run_dir.glob("cluster/b*/data"))


def test_a_quorum_queue_in_containers_under_kill_pause_and_partition_loses_no_confirmed_message(tmp_path):
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    watched = _quorum_run(tmp_path, "kill,pause,partition",
                          ["--nemesis-interval", "4", "--time-limit", "22", "--backend", "docker"])
    assert watched.docker_runs, "saw no container of the run"


def _quorum_run(tmp_path: Path, faults: str, arguments: list[str]) -> WatchedRun:
    """A run on three nodes with every fault of `faults` started, stopped and healed; no confirmed message lost, the
    store complete, nothing left running."""
    watched = logquake_run(tmp_path / "store", [
        "--system", "rabbitmq", "--queue-type", "quorum", "--partition-handling", "pause_minority",
        "--nemesis", faults, "--nemesis-targets", "minority", "--rate", "60", "--concurrency", "4", "--seed", "20",
        *arguments], timeout=600)
    assert watched.code == 0, watched.output
    assert "verdict: VALID" in watched.output
    for fault in faults.split(","):
        assert {(f"start-{fault}", "ok"), (f"stop-{fault}", "ok")} <= set(watched.nemesis_ops()), fault
    assert ("heal", "ok") in watched.nemesis_ops()
    checked = watched.results["amqp"]
    assert checked["valid"] is True and checked["summary"]["drained"] is True
    assert checked["summary"]["enqueues"]["ok"] > 0
    assert checked["anomalies"]["lost"]["count"] == 0 and checked["anomalies"]["unexpected"]["count"] == 0
    for name in ("history.jsonl", "results.json", "report.html", "timeline.html"):
        assert (watched.run_dir / name).stat().st_size > 0, name
    assert not leftovers(watched)
    return watched
