"""`logquake cluster up`, `status` and `down` on the local backend: up returns and leaves the nodes
running, status reads them back from the work directory, down stops every node and removes the files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient, NewTopic

from cluster.deploy.cleanup import cleanup_command
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.keeper_ensemble import unavailable_reason
from cluster.deploy.local import PID_FILE, LocalBackend
from cluster.deploy.node import NodePlan
from cluster.deploy.probes import accepts_connections
from cluster.deploy.record import ClusterRecord
from cluster.deploy.status import status_command
from cluster.deploy.up import up_command
from tests.facilities import require


def test_up_leaves_a_cluster_that_status_shows_and_down_removes(tmp_path: Path) -> None:
    work_dir = tmp_path / "cluster"
    up = _run_up(work_dir, "--override", "offsets.topic.num.partitions=5")
    pids: list[int] = []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        record = ClusterRecord.load(work_dir)
        pids = _pids(work_dir, record)
        assert [(n.name, n.role) for n in record.nodes] == [("k1", "keeper"), ("k2", "keeper"), ("k3", "keeper"),
                                                            ("b1", "broker"), ("b2", "broker"), ("b3", "broker")]
        assert f"bootstrap servers: {record.bootstrap_servers}" in up.stdout
        assert f"keeper connect:    {record.keeper_connect}" in up.stdout
        assert all(accepts_connections(node.host, node.port) for node in record.nodes), "nodes ended with `up`"

        _create_topic(record.bootstrap_servers, "status-topic")
        rows = _wait_status(work_dir, lambda out: _partition_row(out, "status-topic") is not None)
        leader, _epoch, replicas, isr, offline = _partition_row(rows, "status-topic") or ()
        assert leader in {"1", "2", "3"} and sorted(replicas.split(",")) == sorted(isr.split(",")) == ["1", "2", "3"]
        assert offline == "-"
        assert len([line for line in rows.splitlines() if line.split()[-1:] == ["up"]]) == 3
        assert len([line for line in rows.splitlines() if "up (leader)" in line or "up (follower)" in line]) == 3
        assert "controller: broker " in rows
        by_keepers = CliRunner().invoke(status_command, ["--zookeeper", record.keeper_connect])
        assert by_keepers.exit_code == 0 and "controller: broker " in by_keepers.output
        assert "nodes (" not in by_keepers.output and _partition_row(by_keepers.output, "status-topic")

        os.killpg(_pid(work_dir / "b2"), signal.SIGKILL)
        # Keeper drops b2's registration first (offline shows it); the controller then writes the partition's
        # new leader and ISR a moment later, so status may show the one without the other: wait for both.
        rows = _wait_status(work_dir, lambda out: _node_row(out, "b2")[-1:] == ["down"] and _offline(out) == ["2"]
                            and _isr(out) == ["1", "3"])
        assert _node_row(rows, "b1")[-1:] == ["up"]
        assert (_partition_row(rows, "status-topic") or ("2",))[0] in {"1", "3"}
    finally:
        down = CliRunner().invoke(cleanup_command, ["--work-dir", str(work_dir)])
    assert down.exit_code == 0, down.output
    assert not work_dir.exists()
    assert not [pid for pid in pids if _alive(pid)]


def test_up_without_keepers_and_down(tmp_path: Path) -> None:
    work_dir = tmp_path / "brokers-only"
    up = _run_up(work_dir, "--keepers", "0", "--brokers", "2")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        record = ClusterRecord.load(work_dir)
        assert "keeper connect:    none" in up.stdout
        status = CliRunner().invoke(status_command, ["--work-dir", str(work_dir)])
        assert status.exit_code == 0, status.output
        assert [_node_row(status.output, name)[-1] for name in ("b1", "b2")] == ["up", "up"]
        assert "no keepers" in status.output
        pids = _pids(work_dir, record)
    finally:
        down = CliRunner().invoke(cleanup_command, ["--work-dir", str(work_dir)])
    assert down.exit_code == 0, down.output
    assert not work_dir.exists() and not [pid for pid in pids if _alive(pid)]


def test_up_with_apache_zookeeper_as_the_keepers(tmp_path: Path) -> None:
    reason = unavailable_reason("zookeeper")
    require(reason is None, "Apache ZooKeeper", reason or "")
    work_dir = tmp_path / "zookeeper"
    up = _run_up(work_dir, "--keeper-kind", "zookeeper", "--keepers", "1", "--brokers", "1")
    pids: list[int] = []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        pids = _pids(work_dir, ClusterRecord.load(work_dir))
        status = _wait_status(work_dir, lambda out: "controller: broker 1" in out)
        assert _node_row(status, "k1")[1:3] == ["keeper", "(zookeeper)"]
        assert _node_row(status, "k1")[-2:] == ["up", "(standalone)"]
    finally:
        down = CliRunner().invoke(cleanup_command, ["--work-dir", str(work_dir)])
    assert down.exit_code == 0, down.output
    assert not work_dir.exists() and not [pid for pid in pids if _alive(pid)]


def test_down_ends_the_keepers_of_a_crashed_run_too(tmp_path: Path) -> None:
    deployment = deploy(ClusterSpec(keepers=1, brokers=1), "local", tmp_path / "run")
    deployment.up()
    try:
        pids = {node.name: _pid(node.directory) for node in deployment.nodes}
        down = CliRunner().invoke(cleanup_command, ["--work-dir", str(tmp_path / "run")])
        assert down.exit_code == 0, down.output
        assert set(down.output.splitlines()) == {f"removed process {pid} ({name})" for name, pid in pids.items()}
        assert not [pid for pid in pids.values() if _alive(pid)]
    finally:
        deployment.down()


def test_local_runs_side_by_side_get_different_address_blocks_before_any_node_binds() -> None:
    first, second = LocalBackend("first"), LocalBackend("second")
    try:
        assert _block(first.hosts(2)) != _block(second.hosts(2))
    finally:
        first.release()
        second.release()


def test_a_cluster_up_keeps_its_address_block_while_one_of_its_nodes_is_dead(tmp_path: Path) -> None:
    work_dir = tmp_path / "claimed"
    up = _run_up(work_dir, "--keepers", "0", "--brokers", "2")
    probe = LocalBackend("probe")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        record = ClusterRecord.load(work_dir)
        os.killpg(_pid(work_dir / "b1"), signal.SIGKILL)
        b1 = record.brokers[0]
        _wait_until(lambda: not accepts_connections(b1.host, b1.port), "b1's address freed by its death")
        assert _block(probe.hosts(1)) != _block([b1.host])
    finally:
        probe.release()
        CliRunner().invoke(cleanup_command, ["--work-dir", str(work_dir)])


def test_up_refuses_a_work_dir_that_holds_a_cluster(tmp_path: Path) -> None:
    ClusterRecord("earlier-run", "local", (NodePlan("b1", "broker", 1, "127.0.9.2"),)).save(tmp_path)
    result = CliRunner().invoke(up_command, ["--work-dir", str(tmp_path), "--keepers", "0", "--brokers", "1"])
    assert result.exit_code == 1
    assert "already holds a cluster" in result.output
    assert not (tmp_path / "b1").exists()


def test_up_rejects_an_unknown_broker_property_before_starting_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(up_command, ["--work-dir", str(tmp_path / "c"), "--override", "no.such.property=1"])
    assert result.exit_code == 2
    assert "no.such.property" in result.output
    assert not (tmp_path / "c").exists()


def test_status_of_unreachable_keepers_says_so() -> None:
    status = CliRunner().invoke(status_command, ["--zookeeper", "127.0.0.1:1", "--timeout", "1"])
    assert status.exit_code == 1 and "cannot read the cluster from 127.0.0.1:1" in status.output


def test_status_and_down_of_a_directory_without_a_cluster(tmp_path: Path) -> None:
    status = CliRunner().invoke(status_command, ["--work-dir", str(tmp_path)])
    assert status.exit_code == 1 and "cluster.json is missing" in status.output
    down = CliRunner().invoke(cleanup_command, ["--work-dir", str(tmp_path)])
    assert (down.exit_code, down.output.strip()) == (0, "nothing left over")


def _run_up(work_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """A separate process, as a person runs it: what it started must outlive it."""
    return subprocess.run([sys.executable, "-m", "logquake", "cluster", "up", "--work-dir", str(work_dir), *options],
                          capture_output=True, text=True, timeout=300)


def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 3)], operation_timeout=30)[topic].result(timeout=60)


def _wait_status(work_dir: Path, shows: Callable[[str], bool], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    output = ""
    while time.monotonic() < deadline:
        result = CliRunner().invoke(status_command, ["--work-dir", str(work_dir), "--timeout", "10"])
        output = result.output
        if result.exit_code == 0 and shows(output):
            return output
        time.sleep(0.5)
    raise AssertionError(f"status never showed what was expected within {timeout:g}s:\n{output}")


def _partition_row(status: str, topic: str) -> tuple[str, ...] | None:
    """(leader, epoch, replicas, isr, offline) of the topic's partition 0 once it has a leader."""
    for line in status.splitlines():
        cells = line.split()
        if cells[:2] == [topic, "0"] and len(cells) == 7 and cells[2] not in ("-", "none"):
            return tuple(cells[2:])
    return None


def _block(hosts: list[str]) -> str:
    return {host.rsplit(".", 1)[0] for host in hosts}.pop()


def _wait_until(holds: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not holds():
        assert time.monotonic() < deadline, f"not within {timeout:g}s: {what}"
        time.sleep(0.1)


def _offline(status: str) -> list[str]:
    row = _partition_row(status, "status-topic")
    return row[4].split(",") if row else []


def _isr(status: str) -> list[str]:
    row = _partition_row(status, "status-topic")
    return sorted(row[3].split(",")) if row else []


def _node_row(status: str, name: str) -> list[str]:
    for line in status.splitlines():
        cells = line.split()
        if cells[:1] == [name]:
            return cells
    return []


def _pid(node_dir: Path) -> int:
    return int((node_dir / PID_FILE).read_text())


def _pids(work_dir: Path, record: ClusterRecord) -> list[int]:
    return [_pid(work_dir / node.name) for node in record.nodes]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
