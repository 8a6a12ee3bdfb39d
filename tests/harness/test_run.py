"""Whole runs against a real broker process with a real SIGSTOP nemesis, and re-checks of stored runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from logquake import store
from logquake.commands import check_command
from logquake.history import read_history
from logquake.runner import run
from tests.harness.single_broker import OneBroker, listener_pid, one_broker_spec, run_one_broker

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_with_pauses_is_valid_and_stores_everything(tmp_path):
    outcome = run_one_broker(one_broker_spec(10), tmp_path / "store")
    assert outcome.exit_code == 0, outcome.results
    assert outcome.results["valid"] is True
    run_dir = outcome.run_dir
    assert run_dir.parent == tmp_path / "store" / "one-broker"
    assert (tmp_path / "store" / "latest").resolve() == run_dir
    for name in ("test.json", "history.jsonl", "results.json", "harness.log", "report.html", "timeline.html",
                 "latency-raw.png", "rate.png", "nodes/b1.log"):
        assert (run_dir / name).stat().st_size > 0, name
    history = read_history(run_dir / "history.jsonl")
    nemesis = [(op["f"], op["type"]) for op in history if op["process"] == "nemesis"]
    assert ("start-pause", "ok") in nemesis and ("stop-pause", "ok") in nemesis
    assert nemesis[-2:] == [("heal", "invoke"), ("heal", "ok")]
    queue = outcome.results["queue"]
    assert queue["final_reads"]["complete"] is True
    assert queue["summary"]["sends"]["ok"] > 10
    assert json.loads((run_dir / "results.json").read_text())["valid"] is True


def test_every_process_has_at_most_one_operation_in_flight(tmp_path):
    outcome = run_one_broker(one_broker_spec(4, nemesis=(), concurrency=2, rate=100), tmp_path / "store")
    open_ops: dict = {}
    for op in read_history(outcome.run_dir / "history.jsonl"):
        if op["type"] == "invoke":
            assert op["process"] not in open_ops
            open_ops[op["process"]] = op["f"]
        else:
            assert open_ops.pop(op["process"]) == op["f"]
    assert not open_ops


def test_check_rechecks_a_stored_history(tmp_path):
    outcome = run_one_broker(one_broker_spec(3, nemesis=()), tmp_path / "store")
    run_dir = outcome.run_dir
    (run_dir / "results.json").unlink()
    result = CliRunner().invoke(check_command, [str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "verdict: VALID" in result.output
    assert json.loads((run_dir / "results.json").read_text())["valid"] is True

    # An acknowledged send that no read ever saw, below what was read: a lost write under acks=all.
    history = read_history(run_dir / "history.jsonl")
    read_offsets = [o for op in history if op["f"] == "poll" and op["type"] == "ok"
                    for records in op["value"].values() for o, _ in records]
    lost = {"partition": 0, "offset": max(read_offsets) + 1000, "value": -1}
    with open(run_dir / "history.jsonl", "a") as file:
        first = history[-1]["index"] + 1
        for i, (type_, value) in enumerate((("invoke", {"partition": 0, "value": -1}), ("ok", lost))):
            file.write(json.dumps({"index": first + i, "time": history[-1]["time"] + i, "process": 99,
                                   "type": type_, "f": "send", "value": value}) + "\n")
    result = CliRunner().invoke(check_command, [str(run_dir)])
    assert result.exit_code in (1, 2), result.output
    assert json.loads((run_dir / "results.json").read_text())["valid"] is not True


def test_check_refuses_a_directory_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert "not a stored run" in result.output


def test_sigint_heals_tears_down_and_keeps_partial_results(tmp_path):
    store_root = tmp_path / "store"
    child = subprocess.Popen([sys.executable, "-m", "tests.harness.single_broker", str(store_root), "120"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        history_path = store_root / "latest" / "history.jsonl"
        deadline = time.monotonic() + 90
        paused = False
        while time.monotonic() < deadline and not paused:
            time.sleep(0.2)
            if history_path.exists():
                paused = any(op["f"] == "start-pause" and op["type"] == "ok" for op in read_history(history_path))
        assert paused, "the nemesis never paused the broker"
        run_dir = history_path.parent.resolve()
        broker = psutil.Process(listener_pid(_broker_port(run_dir)))
        assert broker.status() == psutil.STATUS_STOPPED
        child.send_signal(signal.SIGINT)
        output = child.communicate(timeout=120)[0].decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 2, output
    assert not broker.is_running() or broker.status() == psutil.STATUS_ZOMBIE
    results = json.loads((run_dir / store.RESULTS).read_text())
    assert results["interrupted"] is True
    assert "SIGINT" in results["problem"]
    history = read_history(run_dir / "history.jsonl")
    assert [(op["f"], op["type"]) for op in history if op["f"] == "heal"] == [("heal", "invoke"), ("heal", "ok")]
    assert (run_dir / "nodes" / "b1.log").exists()
    assert (run_dir / "report.html").exists()


def _broker_port(run_dir: Path) -> int:
    for line in (run_dir / "harness.log").read_text().splitlines():
        if "cluster up" in line:
            return int(line.split("127.0.0.1:")[1].split(";")[0])
    raise AssertionError("harness.log does not say where the cluster is")


def test_a_crash_of_the_harness_tears_down_and_marks_results_interrupted(tmp_path):
    deployments = []

    def deploy(spec, work_dir):
        deployments.append(OneBroker(work_dir))
        return deployments[-1]

    def broken_nemesis(spec, deployment, rng):
        raise RuntimeError("nemesis exploded")

    outcome = run(one_broker_spec(5), tmp_path / "store", deploy=deploy, build_nemesis=broken_nemesis)
    assert outcome.exit_code == 2
    assert outcome.results["interrupted"] is True
    assert "nemesis exploded" in outcome.results["problem"]
    with pytest.raises(LookupError):
        listener_pid(deployments[0].broker.port)
    assert (outcome.run_dir / "nodes" / "b1.log").exists()
    assert "nemesis exploded" in (outcome.run_dir / "harness.log").read_text()
