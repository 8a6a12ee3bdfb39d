"""Whole runs of the register, log and txn workloads through `logquake run`, on local processes and in containers:
real keepers, real Apache ZooKeeper, real brokers, a real kill nemesis; each is valid (register and log store
their linearizability page; txn's allowed anomalies are reported as allowed; txn stays valid under kills, pauses
and partitions) and leaves nothing running."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest
from click.testing import CliRunner

from cluster.deploy import node_cgroups
from cluster.deploy.docker_backend import RUN_LABEL
from cluster.deploy.image import docker_unavailable
from cluster.deploy.keeper_ensemble import unavailable_reason
from checkers.txn.checker import check_txn
from harness.history import read_history
from logquake.commands import check_command, run_command
from tests.facilities import require
from tests.harness.test_run import leftovers

REGISTER = ["--workload", "register", "--keepers", "3", "--brokers", "0", "--nemesis", "kill", "--backend", "local",
            "--time-limit", "15", "--nemesis-interval", "3", "--rate", "50", "--concurrency", "4", "--seed", "5"]


def run(store_root: Path, *options: str) -> tuple[dict, Path]:
    result = CliRunner().invoke(run_command, [*options, "--store", str(store_root)])
    run_dir = (store_root / "latest").resolve()
    assert result.exit_code == 0, result.output
    assert "verdict: VALID" in result.output
    assert not leftovers(run_dir)
    return json.loads((run_dir / "results.json").read_text()), run_dir


def assert_checked_under_kills(results: dict, run_dir: Path, workload: str, nodes: set[str]) -> None:
    """Valid per key, ops of every kind succeeded, the nemesis really killed the named nodes."""
    checked = results[workload]
    assert results["valid"] is True and checked["valid"] is True
    allowed = {"linearizable", "stale reads (allowed without sync)"}  # plain reads may lag (ZooKeeper's contract)
    assert checked["summary"]["keys"] >= 1 and set(checked["keys"].values()) <= allowed
    assert "linearizability.html" in results["files"]
    assert "href='linearizability.html'" in (run_dir / "report.html").read_text()
    killed = {node for op in read_history(run_dir / "history.jsonl")
              if op["process"] == "nemesis" and op["f"] == "start-kill" and op["type"] == "ok"
              for node in op["value"]["nodes"]}
    assert killed and killed <= nodes


def test_register_on_keeper_under_kills_is_linearizable_and_rechecks_alike(tmp_path: Path) -> None:
    results, run_dir = run(tmp_path, *REGISTER)
    assert_checked_under_kills(results, run_dir, "register", {"k1", "k2", "k3"})
    assert {f for f, counts in results["stats"]["by_f"].items() if counts["ok"]} == {"read", "write", "cas"}
    (run_dir / "linearizability.html").unlink()
    recheck = CliRunner().invoke(check_command, [str(run_dir)])
    assert recheck.exit_code == 0, recheck.output
    assert json.loads((run_dir / "results.json").read_text())["register"]["keys"] == results["register"]["keys"]
    assert (run_dir / "linearizability.html").is_file()


def test_register_on_apache_zookeeper_under_kills_is_linearizable(tmp_path: Path) -> None:
    reason = unavailable_reason("zookeeper")
    require(reason is None, "Apache ZooKeeper", reason or "")
    results, run_dir = run(tmp_path, *REGISTER, "--target", "zookeeper", "--register-sync-reads")
    assert_checked_under_kills(results, run_dir, "register", {"k1", "k2", "k3"})
    assert "QuorumPeerMain" in (run_dir / "nodes" / "k1" / "node.log").read_text()


def test_register_on_apache_zookeeper_in_containers_leaves_no_container(tmp_path: Path) -> None:
    reason = docker_unavailable()
    require(reason is None, "Docker", reason or "")
    results, run_dir = run(tmp_path, *REGISTER, "--target", "zookeeper", "--backend", "docker")
    assert_checked_under_kills(results, run_dir, "register", {"k1", "k2", "k3"})
    assert "QuorumPeerMain" in (run_dir / "nodes" / "k1" / "node.log").read_text()
    containers = docker.from_env().containers.list(all=True, filters={"label": RUN_LABEL},
                                                   ignore_removed=True)
    assert not [c.name for c in containers if any(str(run_dir) in m["Source"] for m in c.attrs["Mounts"])]


def test_log_on_one_broker_under_kills_is_linearizable(tmp_path: Path) -> None:
    results, run_dir = run(tmp_path, "--workload", "log", "--brokers", "1", "--keepers", "0",
                           "--replication-factor", "1", "--min-insync", "1", "--partitions", "2", "--nemesis", "kill",
                           "--backend", "local", "--time-limit", "12", "--nemesis-interval", "3", "--rate", "50",
                           "--concurrency", "4", "--seed", "2")
    assert_checked_under_kills(results, run_dir, "log", {"b1"})
    assert results["stats"]["by_f"]["append"]["ok"] > 10 and results["stats"]["by_f"]["read"]["ok"] > 10
    final_reads = [op["value"] for op in read_history(run_dir / "history.jsonl")
                   if op["type"] == "invoke" and op["f"] == "read" and "offset" in op["value"]]
    assert sorted(read["partition"] for read in final_reads) == [0, 1]


TXN = ["--workload", "txn", "--backend", "local", "--brokers", "3", "--keepers", "3", "--replication-factor", "3",
       "--min-insync", "2", "--acks", "all", "--time-limit", "10", "--final-time-limit", "15", "--rate", "50",
       "--concurrency", "4"]
"""Issue 21's transactional runs: transactional producers on three replicas, min ISR 2, acks=all; kafka-python's
under kills, confluent-kafka's (the default) under pauses and partitions and with read_uncommitted."""


def test_txn_read_committed_with_aborts_under_kills_is_valid_and_rechecks_alike(tmp_path: Path) -> None:
    results, run_dir = run(tmp_path, *TXN, "--client", "kafka-python", "--isolation-level", "read_committed",
                           "--abort-p", "0.1", "--nemesis", "kill", "--nemesis-interval", "3", "--seed", "2")
    checked = results["txn"]
    assert results["valid"] is True and checked["valid"] is True
    assert checked["summary"]["txns"]["ok"] > 10 and checked["anomalies"]["G1a"]["count"] == 0
    assert checked["summary"]["txns"]["fail"] > 0  # aborted on purpose, and no committed poll read them
    history = read_history(run_dir / "history.jsonl")
    assert any(op["f"] == "start-kill" and op["type"] == "ok" for op in history)
    assert any(op["f"] == "assign-from-start" and op["type"] == "ok" for op in history)
    recheck = CliRunner().invoke(check_command, [str(run_dir)])
    assert recheck.exit_code == 0, recheck.output
    assert json.loads((run_dir / "results.json").read_text())["txn"]["anomalies"] == checked["anomalies"]


@pytest.mark.parametrize("fault", ["pause", "partition"])
def test_txn_read_committed_under_pauses_and_partitions_is_valid(tmp_path: Path, fault: str) -> None:
    reason = node_cgroups.unavailable_reason()
    require(reason is None, "root, iptables and cgroup v2", reason or "")
    results, run_dir = run(tmp_path, *TXN, "--isolation-level", "read_committed", "--abort-p", "0.1",
                           "--nemesis", fault, "--nemesis-interval", "4", "--seed", "2")
    checked = results["txn"]
    assert checked["valid"] is True and checked["summary"]["txns"]["ok"] > 5
    assert not any(anomaly["forbidden"] for anomaly in checked["anomalies"].values())
    history = read_history(run_dir / "history.jsonl")
    assert any(op["f"] == f"start-{fault}" and op["type"] == "ok" for op in history)
    assert any(op["f"] == f"stop-{fault}" and op["type"] == "ok" for op in history)


@pytest.mark.parametrize("client", ["confluent-kafka", "kafka-python"])
def test_txn_subscribers_read_committed_values_in_the_main_phase_and_stay_valid(tmp_path: Path, client: str) -> None:
    results, run_dir = run(tmp_path, *TXN, "--time-limit", "20", "--client", client, "--mode", "subscribe",
                           "--isolation-level", "read_committed", "--abort-p", "0.1", "--seed", "3")
    assert results["txn"]["valid"] is True
    history = read_history(run_dir / "history.jsonl")
    assert any(op["f"] == "subscribe" and op["type"] == "ok" for op in history)
    assert not any(op["f"] == "assign" for op in history)
    final = next(op["index"] for op in history if op["f"] == "assign-from-start")
    subscribed_reads = [records for op in history[:final] if op["f"] == "txn" and op["type"] == "ok"
                        for micro_op in op["value"] if micro_op[0] == "poll" for records in micro_op[1].values()]
    assert any(subscribed_reads)  # the group's members read before the final phase assigned them anything


def test_txn_read_uncommitted_with_aborts_reads_aborted_values_which_only_read_committed_forbids(
        tmp_path: Path) -> None:
    results, run_dir = run(tmp_path, *TXN, "--isolation-level", "read_uncommitted", "--abort-p", "0.3", "--seed", "3")
    aborted_reads = results["txn"]["anomalies"]["G1a"]
    assert results["valid"] is True and aborted_reads["count"] > 0 and aborted_reads["forbidden"] == 0
    assert f"{aborted_reads['count']} G1a: allowed by this configuration" in results["txn"]["reasons"]
    test = json.loads((run_dir / "test.json").read_text())
    judged = check_txn({**test, "isolation_level": "read_committed"}, read_history(run_dir / "history.jsonl"))
    assert judged["valid"] is False and judged["anomalies"]["G1a"]["forbidden"] == aborted_reads["count"]
