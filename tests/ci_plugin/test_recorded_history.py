"""The logquake_history fixture without a cluster: a user's recorded history, checked against a claim by the real
queue checker; the claim it breaks fails the user's test with the anomalies and the report's path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.history import pair, read_history
from tests.ci_plugin.plugin_runs import PLUGIN, ROOT, latest_run, run_user_tests

pytest_plugins = ["pytester"]

LOST_ACKNOWLEDGED_SEND = '''
def test_my_consumer(logquake_history):
    for offset, value in enumerate([1, 2, 3]):
        op = logquake_history.invoke(0, "send", {"partition": 0, "value": value})
        op.ok({"partition": 0, "offset": offset, "value": value})
    logquake_history.invoke(1, "assign", [0]).ok([0])
    logquake_history.invoke(1, "poll", None).ok({"0": [[0, 1]]})
    # a second consumer starts at offset 2: nobody reads the acknowledged send at offset 1, which is lost
    logquake_history.invoke(2, "assign", [0]).ok([0])
    logquake_history.invoke(2, "poll", None).ok({"0": [[2, 3]]})
    logquake_history.check("queue", claim={"acks": "all", "unclean_election": False, "idempotence": True})
'''

EVERY_SEND_READ = '''
def test_my_consumer(logquake_history):
    for offset, value in enumerate([1, 2, 3]):
        with logquake_history.invoke(0, "send", {"partition": 0, "value": value}) as op:
            op.ok({"partition": 0, "offset": offset, "value": value})
    logquake_history.invoke(1, "assign", [0]).ok([0])
    logquake_history.invoke(1, "poll", None).ok({"0": [[0, 1], [1, 2], [2, 3]]})
    results = logquake_history.check("queue", claim={"acks": "all", "idempotence": True})
    assert results["valid"] is True
'''


def test_a_lost_acknowledged_send_fails_the_users_test_with_the_anomaly_and_the_report(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    result = run_user_tests(pytester, LOST_ACKNOWLEDGED_SEND, tmp_path / "store")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "logquake: the queue claim broke (valid: False)" in output
    assert "1 lost-write: forbidden by this configuration" in output
    assert "anomalies: lost-write 1 (1 forbidden)\n" in output
    report = latest_run(tmp_path / "store") / "report.html"
    assert f"report: {report}" in output
    results = json.loads((report.parent / "results.json").read_text())
    assert results["valid"] is False
    assert results["queue"]["anomalies"]["lost-write"]["examples"][0]["value"] == 2
    assert json.loads((report.parent / "test.json").read_text())["acks"] == "all"
    recheck = subprocess.run([sys.executable, "-m", "logquake", "check", str(report.parent)], cwd=ROOT,
                             capture_output=True, text=True)
    assert recheck.returncode == 1 and "verdict: INVALID" in recheck.stdout, recheck.stdout + recheck.stderr


def test_the_same_loss_passes_under_acks_1_which_allows_it(pytester: pytest.Pytester, tmp_path: Path) -> None:
    source = LOST_ACKNOWLEDGED_SEND.replace('"acks": "all"', '"acks": 1').replace(', "idempotence": True', "")
    result = run_user_tests(pytester, source, tmp_path / "store")
    result.assert_outcomes(passed=1)
    lost = json.loads((latest_run(tmp_path / "store") / "results.json").read_text())["queue"]["anomalies"]["lost-write"]
    assert (lost["count"], lost["forbidden"]) == (1, 0)


def test_a_history_that_keeps_the_claim_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    result = run_user_tests(pytester, EVERY_SEND_READ, tmp_path / "store")
    result.assert_outcomes(passed=1)
    history = latest_run(tmp_path / "store") / "history.jsonl"
    ops = pair(read_history(history))
    assert [(op.f, op.type) for op in ops] == [("send", "ok")] * 3 + [("assign", "ok"), ("poll", "ok")]


def test_an_undecidable_history_fails_rather_than_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """Acknowledged sends nobody tried to read back may be lost or only late: the gate cannot pass on that."""
    source = '''
def test_sends_only(logquake_history):
    logquake_history.invoke(0, "send", {"partition": 0, "value": 1}).ok({"partition": 0, "offset": 0, "value": 1})
    logquake_history.check("queue", claim={"acks": "all"})
'''
    result = run_user_tests(pytester, source, tmp_path / "store")
    result.assert_outcomes(failed=1)
    assert "the queue claim could not be decided (valid: unknown)" in result.stdout.str()


def test_an_op_whose_block_raises_is_recorded_with_unknown_outcome(pytester: pytest.Pytester, tmp_path: Path) -> None:
    source = '''
import pytest

def test_timeout(logquake_history):
    with pytest.raises(TimeoutError):
        with logquake_history.invoke(0, "send", {"partition": 0, "value": 1}):
            raise TimeoutError("no answer in 5 s")
    with pytest.raises(ValueError, match="without op.ok"):
        with logquake_history.invoke(0, "send", {"partition": 0, "value": 2}):
            pass
    op = logquake_history.invoke(0, "send", {"partition": 0, "value": 3})
    with pytest.raises(ValueError, match="in flight"):
        logquake_history.invoke(0, "poll", None)
    op.fail("NOT_ENOUGH_REPLICAS")
    with pytest.raises(ValueError, match="already completed"):
        op.ok(None)
    with pytest.raises(ValueError, match="unknown key"):
        logquake_history.check("queue", claim={"ack": "all"})
'''
    result = run_user_tests(pytester, source, tmp_path / "store")
    result.assert_outcomes(passed=1)
    history = latest_run(tmp_path / "store") / "history.jsonl"
    ops = pair(read_history(history))
    assert [(op.type, op.error) for op in ops] == [
        ("info", "TimeoutError: no answer in 5 s"), ("info", "the block ended without ok, fail or info"),
        ("fail", "NOT_ENOUGH_REPLICAS")]


def test_a_marker_logquake_cannot_build_fails_before_any_node_starts(pytester: pytest.Pytester,
                                                                     tmp_path: Path) -> None:
    source = '''
import pytest

@pytest.mark.logquake_cluster(brokers=1, keepers=1, faults=["kill", "earthquake"])
def test_unknown_fault(logquake_cluster):
    pass

@pytest.mark.logquake_cluster(brokers=1, keepers=1, broker_count=3)
def test_unknown_argument(logquake_cluster):
    pass
'''
    result = run_user_tests(pytester, source, tmp_path / "store", "--logquake-backend", "local")
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert "unknown fault(s) earthquake" in output
    assert "unknown argument(s) broker_count" in output
    assert not list((tmp_path / "store").glob("*/*/cluster/*"))


def test_the_entry_point_loads_the_plugin_in_any_pytest_where_logquake_is_installed(tmp_path: Path) -> None:
    """pytest finds the plugin through an installed distribution's pytest11 entry points, declared as pyproject.toml
    declares them; naming it with -p as well loads it once."""
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert entry_points == {PLUGIN: PLUGIN}
    installed = tmp_path / "site" / "logquake_plugin_check-0.dist-info"
    installed.mkdir(parents=True)
    (installed / "METADATA").write_text("Metadata-Version: 2.1\nName: logquake-plugin-check\nVersion: 0\n")
    (installed / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {target}\n" for name, target in entry_points.items()))
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed.parent), str(ROOT)])}
    for extra in ([], ["-p", PLUGIN]):
        shown = subprocess.run([sys.executable, "-m", "pytest", *extra, "--help"], cwd=tmp_path, env=environment,
                               capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        assert "--logquake-store" in shown.stdout and "--logquake-backend" in shown.stdout
