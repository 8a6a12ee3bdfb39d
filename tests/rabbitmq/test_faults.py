"""RabbitMQ as the system under test, end to end on the local backend: three nodes, a quorum queue, nodes killed
and restarted, or cut off from their peers, under confirmed enqueues and acknowledged dequeues; no confirmed
message may be lost."""

from __future__ import annotations

import pytest

from cluster.deploy import node_cgroups
from cluster.deploy.rabbitmq import unavailable_reason
from tests.e2e.runs import leftovers, logquake_run
from tests.facilities import require


@pytest.fixture(autouse=True)
def rabbitmq_installed():
    require(unavailable_reason() is None, "rabbitmq-server", str(unavailable_reason()))


@pytest.mark.parametrize("fault", ["kill", "partition"])
def test_a_quorum_queue_under_faults_loses_no_confirmed_message_and_the_run_leaves_nothing(tmp_path, fault):
    if fault == "partition":
        require(node_cgroups.unavailable_reason() is None, "partitions between local processes",
                str(node_cgroups.unavailable_reason()))
    watched = logquake_run(tmp_path / "store", [
        "--system", "rabbitmq", "--queue-type", "quorum", "--partition-handling", "pause_minority",
        "--nemesis", fault, "--nemesis-targets", "minority", "--nemesis-interval", "6", "--time-limit", "25",
        "--rate", "60", "--concurrency", "4", "--seed", "20", "--backend", "local"], timeout=600)
    assert watched.code == 0, watched.output
    assert "verdict: VALID" in watched.output
    assert {(f"start-{fault}", "ok"), (f"stop-{fault}", "ok"), ("heal", "ok")} <= set(watched.nemesis_ops())
    checked = watched.results["amqp"]
    assert checked["valid"] is True and checked["summary"]["drained"] is True
    assert checked["summary"]["enqueues"]["ok"] > 0
    assert checked["anomalies"]["lost"]["count"] == 0 and checked["anomalies"]["unexpected"]["count"] == 0
    for name in ("history.jsonl", "results.json", "report.html", "timeline.html"):
        assert (watched.run_dir / name).stat().st_size > 0, name
    assert len(watched.pids) >= 3, f"saw only the node processes {watched.pids}"
    assert not leftovers(watched)
    assert not any(path.exists() for path in watched.run_dir.glob("cluster/b*/data"))
