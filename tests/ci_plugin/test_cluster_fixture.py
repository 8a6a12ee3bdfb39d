"""The logquake_cluster fixture on the local backend, as a user's test suite meets it: a real one-broker cluster,
sends with acks=all through confluent-kafka recorded and checked, a broker killed and started again by the nemesis
context manager, and nothing of the cluster left when the user's test raises or is interrupted."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import psutil
import pytest

from cluster.deploy import image, node_cgroups
from cluster.deploy.deployment import docker_unavailable
from cluster.deploy.docker_backend import RUN_LABEL
from harness.history import NEMESIS, read_history
from tests.facilities import require
from tests.ci_plugin.plugin_runs import latest_run, run_user_tests
from tests.e2e.runs import alive

pytest_plugins = ["pytester"]

CLIENT_CODE = '''
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "orders"


def create_topic(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)])[TOPIC].result(timeout=30)


def send(history, producer, value):
    """One acks=all send as one op of process 0: ok with its offset, fail or info as the client says."""
    outcome = {}
    with history.invoke(0, "send", {"partition": 0, "value": value}) as op:
        producer.produce(TOPIC, str(value).encode(), partition=0,
                         on_delivery=lambda error, message: outcome.update(error=error, message=message))
        producer.flush(30)
        if not outcome:
            op.info("no delivery report in 30 s")
        elif outcome["error"] is not None:
            op.fail(str(outcome["error"]))
        else:
            op.ok({"partition": 0, "offset": outcome["message"].offset(), "value": value})


def read_all(history, bootstrap, count):
    """Process 1 assigns the partition from the start and polls until it has read `count` records."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader", "enable.auto.commit": False})
    history.invoke(1, "assign", [0]).ok([0])
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    read = 0
    for _ in range(60):
        with history.invoke(1, "poll", None) as op:
            records = [[m.offset(), int(m.value())] for m in consumer.consume(100, timeout=1) if m.error() is None]
            op.ok({"0": records})
        read += len(records)
        if read >= count:
            break
    consumer.close()


def producer(cluster):
    return Producer({"bootstrap.servers": cluster.bootstrap_servers, "acks": "all", "enable.idempotence": True,
                     "message.timeout.ms": 20000})
'''

SENDS_READ_BACK = CLIENT_CODE + '''

@pytest.mark.logquake_cluster(brokers=1, keepers=1)
def test_acks_all_sends_are_read_back(logquake_cluster, logquake_history):
    assert logquake_cluster.keeper_connect and [node.name for node in logquake_cluster.nodes] == ["k1", "b1"]
    create_topic(logquake_cluster.bootstrap_servers)
    client = producer(logquake_cluster)
    for value in range(10):
        send(logquake_history, client, value)
    read_all(logquake_history, logquake_cluster.bootstrap_servers, 10)
    results = logquake_history.check("queue", claim={"acks": "all", "idempotence": True})
    assert results["queue"]["summary"]["acknowledged_read"] == 10
'''

KILLED_AND_STARTED = CLIENT_CODE + '''
from logquake.pytest_plugin.faults import FaultError

@pytest.mark.logquake_cluster(brokers=1, keepers=1, faults=["kill"])
def test_the_leader_killed_and_started_again(logquake_cluster, logquake_history):
    create_topic(logquake_cluster.bootstrap_servers)
    client = producer(logquake_cluster)
    send(logquake_history, client, 0)
    with pytest.raises(FaultError, match="declare it in the marker"):
        with logquake_cluster.nemesis.fault("clock-bump", "one"):
            pass
    with pytest.raises(FaultError, match="unknown key 'no-such-option'"):
        with logquake_cluster.nemesis.kill("one", no_such_option=1):
            pass
    broker = logquake_cluster.node("b1")
    with logquake_cluster.nemesis.kill("partition-leader", topic=TOPIC, partition=0) as killed:
        assert killed["nodes"] == ["b1"] and not broker.is_running()
    assert broker.is_running()
    send(logquake_history, client, 1)
    read_all(logquake_history, logquake_cluster.bootstrap_servers, 2)
    logquake_history.check("queue", claim={"acks": "all", "idempotence": True})
'''


def test_a_users_acks_all_sends_on_a_real_cluster_check_valid(pytester: pytest.Pytester, tmp_path: Path) -> None:
    result = run_user_tests(pytester, SENDS_READ_BACK, tmp_path / "store", "--logquake-backend", "local")
    result.assert_outcomes(passed=1)
    run = latest_run(tmp_path / "store")
    assert json.loads((run / "results.json").read_text())["valid"] is True
    assert (run / "report.html").stat().st_size > 0
    assert (run / "nodes" / "b1" / "node.log").stat().st_size > 0


def test_the_kill_context_manager_kills_a_broker_and_starts_it_again(pytester: pytest.Pytester,
                                                                      tmp_path: Path) -> None:
    result = run_user_tests(pytester, KILLED_AND_STARTED, tmp_path / "store", "--logquake-backend", "local")
    result.assert_outcomes(passed=1)
    history = read_history(latest_run(tmp_path / "store") / "history.jsonl")
    faults = [(event["f"], event["type"]) for event in history if event["process"] == NEMESIS]
    assert faults == [("start-kill", "invoke"), ("start-kill", "ok"), ("stop-kill", "invoke"), ("stop-kill", "ok")]
    assert [event["value"]["nodes"] for event in history if event["f"] == "start-kill" and event["type"] == "ok"] == [
        ["b1"]]


@pytest.fixture(scope="module")
def node_image() -> str:
    """The node image, built before pytester gives the test a HOME of its own, where no Rust toolchain is found."""
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    return image.build(log=lambda line: None)


def test_the_docker_backend_serves_a_users_client_and_heals_a_kill(node_image: str, pytester: pytest.Pytester,
                                                                   tmp_path: Path) -> None:
    source = CLIENT_CODE + '''

@pytest.mark.logquake_cluster(brokers=1, keepers=1)
def test_on_containers(logquake_cluster, logquake_history):
    assert logquake_cluster.backend == "docker"
    open("run_id", "w").write(logquake_cluster.deployment.run_id)
    create_topic(logquake_cluster.bootstrap_servers)
    client = producer(logquake_cluster)
    send(logquake_history, client, 0)
    with logquake_cluster.nemesis.kill("b1") as killed:
        assert killed["nodes"] == ["b1"] and not logquake_cluster.node("b1").is_running()
    send(logquake_history, client, 1)
    read_all(logquake_history, logquake_cluster.bootstrap_servers, 2)
    logquake_history.check("queue", claim={"acks": "all", "idempotence": True})
'''
    store = tmp_path / "store"
    result = run_user_tests(pytester, source, store, "--logquake-backend", "docker")
    result.assert_outcomes(passed=1)
    results = json.loads((latest_run(store) / "results.json").read_text())
    assert results["valid"] is True and results["queue"]["summary"]["acknowledged_read"] == 2
    assert (latest_run(store) / "nodes" / "b1" / "node.log").stat().st_size > 0
    label = {"label": f"{RUN_LABEL}={(pytester.path / 'run_id').read_text()}"}
    engine = docker.from_env()
    assert engine.containers.list(all=True, filters=label) == [] and engine.networks.list(filters=label) == []


CUT_OFF_BY_A_GRUDGE = '''
import sys

import pytest

from tests.nemesis.partition_checks import reaches


@pytest.mark.logquake_cluster(brokers=2, keepers=1, faults=["partition"])
def test_a_grudge_cuts_one_way_until_the_block_ends(logquake_cluster, logquake_history):
    b1, b2 = logquake_cluster.node("b1"), logquake_cluster.node("b2")
    with logquake_cluster.nemesis.partition("b1:b2") as done:
        assert done["grudge"] == {"b1": ["b2"]}
        assert not reaches(b2, b1, sys.executable)
    assert reaches(b2, b1, sys.executable)
'''


def test_the_partition_context_manager_applies_a_grudge_and_reconnects(pytester: pytest.Pytester,
                                                                       tmp_path: Path) -> None:
    reason = node_cgroups.unavailable_reason()
    require(reason is None, "root, iptables and cgroup v2", reason or "")
    result = run_user_tests(pytester, CUT_OFF_BY_A_GRUDGE, tmp_path / "store", "--logquake-backend", "local")
    result.assert_outcomes(passed=1)
    history = read_history(latest_run(tmp_path / "store") / "history.jsonl")
    assert [(event["f"], event["type"]) for event in history] == [
        ("start-partition", "invoke"), ("start-partition", "ok"), ("stop-partition", "invoke"), ("stop-partition", "ok")]


@pytest.mark.parametrize("ending", ["RuntimeError('the user test broke')", "KeyboardInterrupt()"])
def test_nothing_of_the_cluster_outlives_a_test_that_raises_in_a_fault(pytester: pytest.Pytester, tmp_path: Path,
                                                                       ending: str) -> None:
    """The kill is stopped, every node stopped and removed, even when the test raises inside the fault's block or
    is interrupted there (pytest then tears fixtures down as the session ends)."""
    source = f'''
import pytest

@pytest.mark.logquake_cluster(brokers=1, keepers=1)
def test_broken(logquake_cluster):
    pids = [int(path.read_text()) for path in logquake_cluster.run_dir.glob("cluster/*/node.pid")]
    open("pids.json", "w").write(repr(pids))
    with logquake_cluster.nemesis.kill("one"):
        raise {ending}
'''
    store = tmp_path / "store"
    result = run_user_tests(pytester, source, store, "--logquake-backend", "local")
    assert result.ret != 0
    pids = json.loads((pytester.path / "pids.json").read_text())
    assert len(pids) == 2
    assert [pid for pid in pids if alive(pid)] == []
    assert [p.pid for p in psutil.process_iter(["cmdline"]) if str(store) in " ".join(p.info["cmdline"] or [])] == []
    assert (latest_run(store) / "nodes" / "k1" / "node.log").exists()
