"""Whole runs through `logquake run` on the local backend (real broker processes, a real SIGSTOP nemesis),
re-checks of stored runs, Ctrl-C and a crash of the harness."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from click.testing import CliRunner

from harness.history import read_history
from logquake import store
from logquake.commands import check_command, run_command
from logquake.registry import WORKLOADS
from logquake.runner import run
from tests.e2e.runs import alive, heeding_sigint

ROOT = Path(__file__).resolve().parents[2]
ONE_BROKER = ["--backend", "local", "--brokers", "1", "--keepers", "0", "--replication-factor", "1",
              "--min-insync", "1", "--partitions", "2", "--concurrency", "3", "--rate", "50"]


def logquake_run(store_root: Path, *options: str) -> tuple[int, str, Path]:
    result = CliRunner().invoke(run_command, [*ONE_BROKER, "--store", str(store_root), *options])
    return result.exit_code, result.output, (store_root / "latest").resolve()


def node_pid(run_dir: Path, node: str) -> int:
    return int((run_dir / "cluster" / node / "node.pid").read_text())


def leftovers(run_dir: Path) -> list[psutil.Process]:
    """Processes still running from the run's directory (its nodes' configs live there)."""
    return [p for p in psutil.process_iter(["cmdline"]) if str(run_dir) in " ".join(p.info["cmdline"] or [])]


def test_a_run_without_plots_stores_the_verdict_and_draws_nothing(tmp_path):
    code, output, run_dir = logquake_run(tmp_path, "--name", "quick", "--time-limit", "3", "--no-plots")
    assert code == 0, output
    assert "verdict: VALID" in output and f"report: {run_dir}" in output
    assert json.loads((run_dir / "results.json").read_text())["files"] == []
    assert not [path.name for path in run_dir.iterdir() if path.suffix in (".png", ".html")]


def test_a_run_with_pauses_is_valid_and_stores_everything(tmp_path):
    code, output, run_dir = logquake_run(tmp_path, "--name", "pauses", "--nemesis", "pause",
                                         "--nemesis-interval", "2", "--time-limit", "10", "--seed", "3")
    assert code == 0, output
    assert "verdict: VALID" in output and f"report: {run_dir / 'report.html'}" in output
    assert run_dir.parent == tmp_path / "pauses"
    for name in ("test.json", "history.jsonl", "results.json", "harness.log", "report.html", "timeline.html",
                 "latency-raw.png", "rate.png"):
        assert (run_dir / name).stat().st_size > 0, name
    assert any((run_dir / "nodes").iterdir())
    assert json.loads((run_dir / "test.json").read_text())["seed"] == 3
    history = read_history(run_dir / "history.jsonl")
    nemesis = [(op["f"], op["type"]) for op in history if op["process"] == "nemesis"]
    assert ("start-pause", "ok") in nemesis and ("stop-pause", "ok") in nemesis
    assert nemesis[-2:] == [("heal", "invoke"), ("heal", "ok")]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["valid"] is True
    assert results["queue"]["final_reads"]["complete"] is True
    assert results["queue"]["summary"]["sends"]["ok"] > 10
    log_starts = [op for op in history if op["f"] == "log-starts" and op["type"] != "invoke"]
    assert len(log_starts) == 3 and all(op["type"] == "ok" for op in log_starts), log_starts
    assert results["queue"]["retention"]["log_starts"] == {"0": 0, "1": 0}
    assert not leftovers(run_dir)

    open_ops: dict = {}
    for op in history:  # no process ever has two operations in flight
        if op["type"] == "invoke":
            assert op["process"] not in open_ops
            open_ops[op["process"]] = op["f"]
        else:
            assert open_ops.pop(op["process"]) == op["f"]


def test_check_rechecks_a_stored_history(tmp_path):
    code, output, run_dir = logquake_run(tmp_path, "--time-limit", "3")
    assert code == 0, output
    (run_dir / "results.json").unlink()
    result = CliRunner().invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "verdict: VALID" in result.output
    assert json.loads((run_dir / "results.json").read_text())["valid"] is True

    # An acknowledged send that no read ever saw, under acks=all: the re-check must find it.
    history = read_history(run_dir / "history.jsonl")
    last = history[-1]
    with open(run_dir / "history.jsonl", "a") as file:
        for i, (type_, value) in enumerate((("invoke", {"partition": 0, "value": -1}),
                                            ("ok", {"partition": 0, "offset": 10**6, "value": -1}))):
            file.write(json.dumps({"index": last["index"] + 1 + i, "time": last["time"] + 1 + i, "process": 99,
                                   "type": type_, "f": "send", "value": value}) + "\n")
    result = CliRunner().invoke(check_command, [str(run_dir)])
    assert result.exit_code in (1, 2), result.output
    assert json.loads((run_dir / "results.json").read_text())["valid"] is not True


def test_check_refuses_a_directory_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert "not a stored run" in result.output


def test_sigint_heals_tears_down_and_keeps_partial_results(tmp_path):
    child = subprocess.Popen([sys.executable, "-m", "logquake", "run", *ONE_BROKER, "--store",
                              str(tmp_path), "--nemesis", "pause", "--nemesis-interval", "6", "--time-limit", "120"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=heeding_sigint)
    try:
        history_path = tmp_path / "latest" / "history.jsonl"
        deadline = time.monotonic() + 90
        paused = False
        while time.monotonic() < deadline and not paused:
            time.sleep(0.2)
            if history_path.exists():
                paused = any(op["f"] == "start-pause" and op["type"] == "ok" for op in read_history(history_path))
        assert paused, "the nemesis never paused the broker"  # for 6 s: ample time to interrupt it on a loaded machine
        run_dir = history_path.parent.resolve()
        broker = psutil.Process(node_pid(run_dir, "b1"))
        assert broker.status() == psutil.STATUS_STOPPED
        child.send_signal(signal.SIGINT)
        output = child.communicate(timeout=120)[0].decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 2, output
    assert "(partial: interrupted by the user (SIGINT))" in output, output
    assert not alive(broker.pid)
    assert not leftovers(run_dir)
    results = json.loads((run_dir / store.RESULTS).read_text())
    assert results["interrupted"] is True
    assert "SIGINT" in results["problem"]
    history = read_history(run_dir / "history.jsonl")
    heal = [op for op in history if op["f"] == "heal"]
    assert [op["type"] for op in heal] == ["invoke", "ok"]
    assert heal[1]["value"][0]["nodes"] == ["b1"]  # the pause was undone by the heal
    assert any((run_dir / "nodes").iterdir())
    assert (run_dir / "report.html").exists()


def test_a_crash_of_the_harness_tears_down_and_marks_results_interrupted(tmp_path):
    def broken_nemesis(spec, workload, deployment, rng):
        raise RuntimeError("nemesis exploded")

    spec = WORKLOADS.spec(name="crash", nemesis=("pause",), brokers=1, keepers=0, replication_factor=1,
                          min_insync=1, time_limit=5, backend="local")
    outcome = run(spec, tmp_path, build_nemesis=broken_nemesis)
    assert outcome.exit_code == 2
    assert outcome.results["interrupted"] is True
    assert "nemesis exploded" in outcome.results["problem"]
    assert not leftovers(outcome.run_dir)
    assert any((outcome.run_dir / "nodes").iterdir())
    assert "nemesis exploded" in (outcome.run_dir / "harness.log").read_text()
