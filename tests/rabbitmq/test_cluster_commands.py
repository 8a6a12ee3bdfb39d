"""`logquake cluster up/status/down --system rabbitmq`: a RabbitMQ cluster that outlives the command, then nothing."""

from __future__ import annotations

import json

import psutil
import pytest
from click.testing import CliRunner

from cluster.deploy.probes import accepts_connections
from cluster.deploy.rabbitmq import NodeIdentity, unavailable_reason
from logquake.cli import main
from tests.facilities import require


@pytest.fixture(autouse=True)
def rabbitmq_installed():
    require(unavailable_reason() is None, "rabbitmq-server", str(unavailable_reason()))


def test_up_status_and_down_of_a_rabbitmq_cluster(tmp_path):
    work_dir = tmp_path / "cluster"
    runner = CliRunner()
    up = runner.invoke(main, ["cluster", "up", "--system", "rabbitmq", "--partition-handling", "autoheal",
                              "--net-ticktime", "15", "--work-dir", str(work_dir)])
    try:
        assert up.exit_code == 0, up.output
        assert "AMQP nodes: " in up.output
        nodes = json.loads((work_dir / "cluster.json").read_text())["nodes"]
        assert [node["name"] for node in nodes] == ["b1", "b2", "b3"] and {n["system"] for n in nodes} == {"rabbitmq"}
        assert "net_ticktime = 15" in (work_dir / "b1" / "rabbitmq.conf").read_text()
        pids = [int((work_dir / node["name"] / "node.pid").read_text()) for node in nodes]
        epmd_port = NodeIdentity.load(work_dir / "b1").epmd_port
        status = runner.invoke(main, ["cluster", "status", "--work-dir", str(work_dir)])
        assert status.exit_code == 0, status.output
        everyone = "rabbit-b1@127.0.0.2, rabbit-b2@127.0.0.3, rabbit-b3@127.0.0.4".replace(
            "127.0.0", nodes[0]["host"].rsplit(".", 1)[0])
        assert [line for line in status.output.splitlines() if "sees running" in line] == [
            f"{name} sees running: {everyone}" for name in ("b1", "b2", "b3")]
    finally:
        down = runner.invoke(main, ["cluster", "down", "--work-dir", str(work_dir)])
    assert down.exit_code == 0, down.output
    assert f"(port {epmd_port})" in down.output
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)
    assert not accepts_connections("127.0.0.1", epmd_port)
    assert not work_dir.exists()


def test_up_refuses_a_rabbitmq_cluster_with_keepers(tmp_path):
    result = CliRunner().invoke(main, ["cluster", "up", "--system", "rabbitmq", "--keepers", "3",
                                       "--work-dir", str(tmp_path / "cluster")])
    assert result.exit_code == 2 and "no keepers" in result.output
    assert not (tmp_path / "cluster").exists()


def test_up_refuses_a_tick_time_below_a_second(tmp_path):
    result = CliRunner().invoke(main, ["cluster", "up", "--system", "rabbitmq", "--net-ticktime", "0",
                                       "--work-dir", str(tmp_path / "cluster")])
    assert result.exit_code == 2 and "net_ticktime must be a whole number of seconds, at least 1, not 0" in result.output
    assert not (tmp_path / "cluster").exists()
