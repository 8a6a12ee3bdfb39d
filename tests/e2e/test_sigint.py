"""Ctrl-C in the middle of a three-broker run (local backend) while a broker is killed: the fault is
healed, the cluster removed, and the partial results say the run was interrupted."""

from __future__ import annotations

from tests.e2e.runs import THREE_NODES, a_broker_is_down, leftovers, logquake_run


def test_sigint_heals_removes_the_cluster_and_keeps_partial_results(tmp_path):
    watched = logquake_run(tmp_path / "store", ["--nemesis", "kill", "--nemesis-interval", "5", *THREE_NODES,
                                                "--time-limit", "300", "--backend", "local"],
                           interrupt_when=a_broker_is_down)
    assert watched.code == 2, watched.output
    assert "(partial: interrupted by the user (SIGINT))" in watched.output
    results = watched.results
    assert results["interrupted"] is True and "SIGINT" in results["problem"]
    history = watched.history()
    killed = next(op["value"]["nodes"] for op in history if op["f"] == "start-kill" and op["type"] == "ok")
    heal = [op for op in history if op["f"] == "heal"]
    assert [op["type"] for op in heal] == ["invoke", "ok"]
    assert [(undone["fault"], undone["nodes"]) for undone in heal[1]["value"]] == [("kill", killed)]
    assert len(watched.pids) >= 6 and not leftovers(watched)
    assert {node.name for node in (watched.run_dir / "nodes").iterdir()} >= {"b1", "b2", "b3", "k1", "k2", "k3"}
    assert (watched.run_dir / "report.html").exists()
