"""Builds queue histories in the shared format, one op at a time, for the checker tests."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from checkers.compose import check_verdict, run_checks
from harness.history import History as StoredHistory
from harness.history import load_history
from logquake.registry import WORKLOADS

TEST = {"name": "queue", "workload": "queue", "acks": "all", "idempotence": True, "retries": 5,
        "mode": "assign", "partitions": 2, "broker_overrides": {}}


def checked(test: dict[str, Any], events: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """A run's results as `logquake check` composes them: the test's workload's checker, stats, plots, timeline.

    The verdict is also taken from the events stored and loaded as `logquake check` loads them (a compact
    harness.history.History), and must be the same: every checker test using this is a differential test
    of the two."""
    workload = WORKLOADS[test["workload"]]
    assert verdict(test, stored(events, out_dir / "stored"), out_dir / "stored") == \
        verdict(test, events, out_dir / "listed")
    return run_checks(test, events, out_dir, workload.name, workload.check, workload.partition_writes)


def verdict(test: dict[str, Any], history: Any, out_dir: Path) -> dict[str, Any]:
    """check_verdict's results: the workload's checker, stats, availability, faults, disk."""
    workload = WORKLOADS[test["workload"]]
    return check_verdict(test, history, out_dir, workload.name, workload.check, workload.partition_writes).results


def stored(events: list[dict[str, Any]], out_dir: Path) -> StoredHistory:
    """The events written to a history file and loaded back as `logquake check` loads them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "history.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return load_history(path)


class History:
    """Ops appended in order; each call writes an invoke and, unless type is None, its completion."""

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        self.events: list[dict[str, Any]] = events if events is not None else []
        self.now_ns = self.events[-1]["time"] if self.events else 0

    def event(self, process: Any, type: str, f: str, value: Any, error: str | None = None) -> int:
        """Each event happens 1 ms after the one before."""
        self.now_ns += 1_000_000
        event = {"index": len(self.events), "time": self.now_ns, "process": process,
                 "type": type, "f": f, "value": value}
        if error is not None:
            event["error"] = error
        self.events.append(event)
        return event["index"]

    def op(self, process: Any, f: str, asked: Any, type: str | None, result: Any = None) -> int:
        """Returns the index of the completion (the invoke's when type is None)."""
        index = self.event(process, "invoke", f, asked)
        if type is None:
            return index
        return self.event(process, type, f, result if type == "ok" else asked,
                          None if type == "ok" else "something went wrong")

    def send(self, process: Any, partition: int, value: int, offset: int | None = None, type: str | None = "ok") -> int:
        result = {"partition": partition, "offset": offset, "value": value}
        return self.op(process, "send", {"partition": partition, "value": value}, type, result)

    def poll(self, process: Any, reads: dict[int, list[tuple[int, int]]], type: str | None = "ok") -> int:
        return self.op(process, "poll", None, type, {str(p): [list(r) for r in rs] for p, rs in reads.items()})

    def assign(self, process: Any, partitions: list[int]) -> int:
        return self.op(process, "assign", partitions, "ok", partitions)

    def subscribe(self, process: Any, topic: str = "queue") -> int:
        return self.op(process, "subscribe", [topic], "ok", [topic])

    def nemesis(self, f: str, target: str, nodes: list[str]) -> int:
        return self.op("nemesis", f, target, "ok", {"nodes": nodes, "action": f})


def busy_history(seconds: float, rate: float, seed: int = 1, processes: int = 6, partitions: int = 3,
                 fault_every_s: float = 10.0) -> list[dict[str, Any]]:
    """A run-shaped history of a correct queue: processes take turns sending and polling at about
    `rate` ops/s in total with realistic latencies and a few timeouts (info, then a fresh
    process), a kill fault on and off every `fault_every_s`, then final reads of everything."""
    rng = random.Random(seed)
    logs: dict[int, list[int]] = {p: [] for p in range(partitions)}
    events: list[tuple[int, dict[str, Any]]] = []
    gap_ns = int(processes / rate * 1e9)
    value = 0
    for slot in range(processes):
        process, position, now = slot, dict.fromkeys(logs, 0), rng.randrange(gap_ns)
        while now < seconds * 1e9:
            latency = int(rng.lognormvariate(15, 0.8)) if rng.random() > 0.005 else 1_000_000_000
            timed_out = latency >= 1_000_000_000
            if rng.random() < 0.5:
                value += 1
                partition = rng.randrange(partitions)
                logs[partition].append(value)
                asked = {"partition": partition, "value": value}
                done = {**asked, "offset": len(logs[partition]) - 1}
                f = "send"
            else:
                f, asked, done = "poll", None, {}
                for partition, log in logs.items():
                    end = min(len(log), position[partition] + rng.randrange(4))
                    done[str(partition)] = [[o, log[o]] for o in range(position[partition], end)]
                    position[partition] = end
            events.append((now, {"process": process, "type": "invoke", "f": f, "value": asked}))
            outcome = "info" if timed_out else "ok"
            events.append((now + latency, {"process": process, "type": outcome, "f": f,
                                           "value": asked if timed_out else done}))
            if timed_out:
                process, position = process + processes, dict.fromkeys(logs, 0)
            now += latency + rng.randrange(gap_ns)
    for n, start in enumerate(range(int(fault_every_s * 1e9), int(seconds * 1e9), int(fault_every_s * 1e9))):
        f = "start-kill" if n % 2 == 0 else "stop-kill"
        events.append((start, {"process": "nemesis", "type": "invoke", "f": f, "value": "one"}))
        events.append((start + 50_000_000, {"process": "nemesis", "type": "ok", "f": f,
                                            "value": {"nodes": ["b2"], "action": "SIGKILL" if n % 2 == 0 else "start"}}))
    events.sort(key=lambda pair: pair[0])
    history = [{"index": i, "time": t, **e} for i, (t, e) in enumerate(events)]
    final_reads = History(history)
    reader = 10_000 * processes
    final_reads.assign(reader, list(logs))
    for partition, log in logs.items():
        final_reads.poll(reader, {partition: list(enumerate(log))})
    return history
