"""Whole chaos runs through the `logquake run` command line, watched from outside the harness.

While the run goes, the watcher notes what it started: node processes (their pid files) and, on
docker, the run label of containers whose node directories lie under the store. Afterwards the
tests ask whether any of it outlived the run, the way an operator would: by pid and by label.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import psutil

from cluster.deploy.cleanup import remove_leftovers
from cluster.deploy.docker_backend import RUN_LABEL
from cluster.deploy.local import PID_FILE
from harness.history import read_history

ROOT = Path(__file__).resolve().parents[2]
THREE_NODES = ["--brokers", "3", "--keepers", "3", "--replication-factor", "3", "--min-insync", "2"]
"""The replicated cluster of issue 6's end-to-end tests."""

Condition = Callable[[Path], bool]


@dataclass
class WatchedRun:
    code: int
    output: str
    run_dir: Path
    pids: set[int] = field(default_factory=set)
    docker_runs: set[str] = field(default_factory=set)

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "results.json").read_text())

    def history(self) -> list[dict[str, Any]]:
        return read_history(self.run_dir / "history.jsonl")

    def nemesis_ops(self) -> list[tuple[str, str]]:
        return [(op["f"], op["type"]) for op in self.history() if op["process"] == "nemesis"]

    def anomaly(self, name: str) -> dict[str, Any]:
        return self.results["queue"]["anomalies"][name]


def a_broker_is_down(run_dir: Path) -> bool:
    """Whether the run has killed a broker: a condition to interrupt it on."""
    history = run_dir / "history.jsonl"
    return history.exists() and any(op["f"] == "start-kill" and op["type"] == "ok" for op in read_history(history))


def heeding_sigint() -> None:
    """For a child that must take Ctrl-C: a shell that started the tests in the background (SIGINT ignored,
    as POSIX has it) would otherwise pass that on, and Python only turns SIGINT into KeyboardInterrupt when
    it is not ignored at startup."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def logquake_run(store: Path, arguments: list[str], timeout: float = 300,
                 interrupt_when: Condition | None = None, command: str = "run") -> WatchedRun:
    """Runs `python -m logquake run` (or `verify`, whose runs go to the same store) to its end (SIGINT once
    interrupt_when(run_dir) holds, if given, on the newest run)."""
    output_path = store.parent / f"{store.name}-output.txt"
    with open(output_path, "wb") as output:
        child = subprocess.Popen([sys.executable, "-m", "logquake", command, "--store", str(store), *arguments],
                                 cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, preexec_fn=heeding_sigint)
    watched = WatchedRun(-1, "", store / "latest")
    deadline = time.monotonic() + timeout
    interrupted = False
    try:
        while child.poll() is None and time.monotonic() < deadline:
            _note_what_runs(store, watched)
            if interrupt_when is not None and not interrupted and _holds(interrupt_when, store / "latest"):
                child.send_signal(signal.SIGINT)
                interrupted = True
            time.sleep(0.5)
    finally:
        if child.poll() is None:
            _stop(child, store, watched)
    watched.code = child.returncode
    watched.output = output_path.read_text(errors="replace")
    watched.run_dir = (store / "latest").resolve()
    assert time.monotonic() < deadline, f"the run did not end within {timeout:g}s:\n{watched.output}"
    return watched


def _stop(child: subprocess.Popen[bytes], store: Path, watched: WatchedRun) -> None:
    """A run past its time (or a test cut short) is interrupted as a user would, so that it heals and tears
    down; only if that hangs is it killed, and what it left is removed the way `logquake cluster down` does."""
    child.send_signal(signal.SIGINT)
    try:
        child.wait(120)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        for run_id in watched.docker_runs or {None}:
            remove_leftovers(local_dirs=[store], docker_runs=run_id is not None, run_id=run_id)


def _holds(condition: Condition, run_dir: Path) -> bool:
    return run_dir.exists() and condition(run_dir.resolve())


def _note_what_runs(store: Path, watched: WatchedRun) -> None:
    for pid_file in store.glob(f"*/*/cluster/*/{PID_FILE}"):
        try:
            watched.pids.add(int(pid_file.read_text()))
        except (OSError, ValueError):  # removed or half-written between glob and read
            pass
    if not watched.pids and not watched.docker_runs:  # local nodes keep pid files, containers do not
        watched.docker_runs = _docker_runs_under(store)


def _docker_runs_under(store: Path) -> set[str]:
    try:
        client = docker.from_env()
    except docker.errors.DockerException:
        return set()
    root = str(store.resolve())
    try:
        return {container.labels[RUN_LABEL] for container in client.containers.list(
                    all=True, filters={"label": RUN_LABEL}, ignore_removed=True)
                if any(mount.get("Source", "").startswith(root) for mount in container.attrs.get("Mounts", []))}
    finally:
        client.close()


ISR_CHANGE = re.compile(r"ISR changed from \[([\d, ]*)\] to \[([\d, ]*)\]")
SESSION_EXPIRY = re.compile(r".*(?:session 0x[0-9a-f]+ expired|Expiring session|resigns: keeper session lost).*")
"""A session's end as each node kind logs it: keeper's and Apache ZooKeeper's expiry, a broker's loss of its own."""


def isr_changes(run_dir: Path) -> list[tuple[int, int]]:
    """(size before, size after) of every ISR change any broker made, from the brokers' logs."""
    changes = []
    for log in sorted((run_dir / "nodes").glob("b*/node.log")):
        for before, after in ISR_CHANGE.findall(log.read_text(errors="replace")):
            changes.append((len(before.split(",")) if before else 0, len(after.split(",")) if after else 0))
    return changes


def session_expiries(run_dir: Path) -> list[str]:
    """Every log line of any node that says a keeper session expired or was lost."""
    return [f"{log.parent.name}: {line}" for log in sorted((run_dir / "nodes").glob("*/node.log"))
            for line in SESSION_EXPIRY.findall(log.read_text(errors="replace"))]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leftovers(watched: WatchedRun) -> list[str]:
    """Whatever of the run still exists: node processes, processes naming its directory, containers, networks."""
    remaining = [f"process {pid}" for pid in sorted(watched.pids) if alive(pid)]
    remaining += [f"process {p.pid} {' '.join(p.info['cmdline'])}" for p in psutil.process_iter(["cmdline"])
                  if str(watched.run_dir) in " ".join(p.info["cmdline"] or [])]
    if watched.docker_runs:
        client = docker.from_env()
        try:
            for run_id in watched.docker_runs:
                label = {"label": f"{RUN_LABEL}={run_id}"}
                containers = client.containers.list(all=True, filters=label, ignore_removed=True)
                remaining += [f"container {c.name}" for c in containers]
                remaining += [f"network {n.name}" for n in client.networks.list(filters=label)]
        finally:
            client.close()
    return remaining


def assert_valid_chaos_run(store: Path, backend: str) -> WatchedRun:
    """Issue 6's end-to-end run: kill nemesis, acks=all, three replicas with min ISR 2, ~25 s: valid, all
    outputs stored, nothing of the run left afterwards."""
    watched = logquake_run(store, ["--workload", "queue", "--nemesis", "kill", "--nemesis-interval", "6",
                                   "--acks", "all", *THREE_NODES, "--time-limit", "25", "--rate", "100",
                                   "--concurrency", "4", "--seed", "6", "--backend", backend])
    assert watched.code == 0, watched.output
    assert "verdict: VALID" in watched.output
    for name in ("history.jsonl", "results.json", "report.html", "timeline.html", "latency-raw.png",
                 "latency-quantiles.png", "rate.png"):
        assert (watched.run_dir / name).stat().st_size > 0, name
    assert {("start-kill", "ok"), ("stop-kill", "ok"), ("heal", "ok")} <= set(watched.nemesis_ops())
    results = watched.results
    assert results["valid"] is True and results["queue"]["final_reads"]["complete"] is True
    assert results["queue"]["summary"]["sends"]["ok"] > 0
    return watched


ISOLATING = ["--workload", "queue", "--nemesis", "isolate-leader", "--nemesis-interval", "5", *THREE_NODES,
             "--partitions", "1", "--broker-override", "zookeeper.session.timeout.ms=6000", "--time-limit", "25",
             "--final-time-limit", "15", "--rate", "100", "--concurrency", "4", "--seed", "2", "--backend", "local"]
"""isolate-leader cycles on one partition, so every send goes to the leader it isolates; each cycle waits
for the dead leader's keeper session to expire, which a 6 s session makes quick. Final reads are bounded
tighter than usual: under acks=1 the highest acknowledged offsets may be lost for good, and the reads
would wait for them until the bound."""


def isolating_run(store: Path, acks: str) -> WatchedRun:
    watched = logquake_run(store, ["--acks", acks, *ISOLATING])
    assert ("start-isolate-leader", "ok") in watched.nemesis_ops(), watched.output
    assert not leftovers(watched)
    return watched


PARTITIONING = ["--workload", "queue", "--nemesis", "partition", "--nemesis-targets", "partition-leader",
                "--nemesis-interval", "12", *THREE_NODES, "--partitions", "1",
                "--broker-override", "zookeeper.session.timeout.ms=6000", "--time-limit", "30",
                "--final-time-limit", "15", "--rate", "100", "--concurrency", "4", "--seed", "4", "--backend", "docker"]
"""Jepsen's Kafka case: the one partition's leader is cut off from the other brokers and the keepers for
12 s, while clients on the host still reach it. Its keeper session (6 s) expires, the controller elects
a follower, and the old leader truncates what only it had when it rejoins."""


def partitioning_run(store: Path, acks: str) -> WatchedRun:
    watched = logquake_run(store, ["--acks", acks, *PARTITIONING])
    assert {("start-partition", "ok"), ("stop-partition", "ok")} <= set(watched.nemesis_ops()), watched.output
    assert not leftovers(watched)
    return watched
