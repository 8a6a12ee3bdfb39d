"""Synthetic queue runs at any size, in the exact format the queue workload stores (test.json, history.jsonl).

Fast enough to write a million operations in seconds: lines are formatted directly, not through
json.dumps. The shape follows a real run: every worker assigns all partitions, then sends and polls
at random with a few timeouts (info, after which the worker goes on as a fresh process that assigns
again), a kill fault starts and stops on a broker now and then, and the final reads ask for the log
starts, assign and read every partition from the beginning. The history is correct unless one
anomaly is injected: a lost acknowledged write (never read, though later offsets were), a duplicate
(one value appended twice) or a reorder (one poll's records out of order).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import IO

ANOMALIES = {"lost": "lost-write", "duplicate": "duplicate", "reorder": "int-nonmonotonic-poll"}
"""Injected kind -> the anomaly the queue checker must name."""
WORKERS = 6
PARTITIONS = 3
FAULT_EVERY = 20_000
"""Client ops between a fault's start and its stop (and between a stop and the next start)."""
FINAL_CHUNK = 5_000
"""Records per final poll."""
TEST = {"acks": "all", "backend": "local", "broker_overrides": {}, "brokers": 3, "client": "confluent-kafka",
        "concurrency": WORKERS, "final_time_limit": 60.0, "idempotence": True, "keeper_overrides": {}, "keepers": 3,
        "max_unavailable": None, "min_insync": 2, "mode": "assign", "nemesis": ["kill"], "nemesis_interval": 10.0,
        "nemesis_options": {}, "nemesis_targets": [], "op_timeout": 10.0, "partitions": PARTITIONS, "rate": 200.0,
        "replication_factor": 3, "retries": 5, "seed": 0, "settle_time": 5.0, "target": "keeper",
        "time_limit": 60.0, "topic": "queue", "workload": "queue"}


class _Writer:
    """Numbers and timestamps events; every event is 100 microseconds after the one before."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.index = 0
        self.now = 1_000_000_000

    def event(self, process: int | str, type_: str, f: str, value: str, error: str = "") -> None:
        self.now += 100_000
        process_json = f'"{process}"' if isinstance(process, str) else process
        tail = f',"error":"{error}"' if error else ""
        self.out.write(f'{{"index":{self.index},"time":{self.now},"process":{process_json},"type":"{type_}",'
                       f'"f":"{f}","value":{value}{tail}}}\n')
        self.index += 1


class _Run:
    def __init__(self, writer: _Writer, rng: random.Random, anomaly: str | None) -> None:
        self.w = writer
        self.rng = rng
        self.anomaly = anomaly
        self.logs: list[list[int]] = [[] for _ in range(PARTITIONS)]
        self.lost: tuple[int, int] | None = None
        self.injected = anomaly is None
        self.next_value = 0
        self.all = json.dumps(list(range(PARTITIONS)), separators=(",", ":"))

    def due(self, anomaly: str, at: int, ops: int) -> bool:
        """True once: for the first chance to inject `anomaly` half-way through the run, if it is the one asked."""
        if self.injected or self.anomaly != anomaly or at < ops // 2:
            return False
        self.injected = True
        return True

    def assign(self, process: int) -> None:
        self.w.event(process, "invoke", "assign", self.all)
        self.w.event(process, "ok", "assign", self.all)

    def send(self, process: int, at: int, ops: int) -> bool:
        """One send; False when it timed out (info: appended, but nobody was told)."""
        partition, value = self.rng.randrange(PARTITIONS), self.next_value
        self.next_value += 1
        log = self.logs[partition]
        asked = f'{{"partition":{partition},"value":{value}}}'
        self.w.event(process, "invoke", "send", asked)
        log.append(value)
        if self.due("duplicate", at, ops):
            log.append(value)
        if self.rng.random() < 0.002:
            self.w.event(process, "info", "send", asked, "_MSG_TIMED_OUT")
            return False
        if self.due("lost", at, ops):
            self.lost = (partition, len(log) - 1)
        self.w.event(process, "ok", "send", f'{{"partition":{partition},"offset":{len(log) - 1},"value":{value}}}')
        return True

    def poll(self, process: int, positions: list[int], at: int, ops: int) -> None:
        self.w.event(process, "invoke", "poll", "null")
        parts = []
        for partition, log in enumerate(self.logs):
            start = positions[partition]
            end = min(len(log), start + self.rng.randrange(6))
            records = [[offset, log[offset]] for offset in range(start, end) if (partition, offset) != self.lost]
            if len(records) >= 2 and self.due("reorder", at, ops):
                records[0], records[1] = records[1], records[0]
            parts.append(f'"{partition}":{json.dumps(records, separators=(",", ":"))}')
            positions[partition] = end
        self.w.event(process, "ok", "poll", "{" + ",".join(parts) + "}")

    def fault(self, n: int) -> None:
        f, action = ("start-kill", "SIGKILL") if n % 2 == 0 else ("stop-kill", "start")
        self.w.event("nemesis", "invoke", f, '"one"' if n % 2 == 0 else "null")
        self.w.event("nemesis", "ok", f, f'{{"nodes":["b2"],"action":"{action}"}}')

    def final_reads(self, process: int) -> None:
        starts = "{" + ",".join(f'"{p}":0' for p in range(PARTITIONS)) + "}"
        self.w.event(process, "invoke", "log-starts", self.all)
        self.w.event(process, "ok", "log-starts", starts)
        self.assign(process)
        for partition, log in enumerate(self.logs):
            for start in range(0, len(log), FINAL_CHUNK):
                end = min(len(log), start + FINAL_CHUNK)
                self.w.event(process, "invoke", "poll", "null")
                records = ",".join(f"[{o},{log[o]}]" for o in range(start, end) if (partition, o) != self.lost)
                self.w.event(process, "ok", "poll", f'{{"{partition}":[{records}]}}')


def write_run(run_dir: Path, ops: int, anomaly: str | None = None, seed: int = 0) -> Path:
    """A stored run of about `ops` client operations (the final reads and faults come on top); returns run_dir.

    Operations complete one at a time (no overlap): the checkers' cost does not depend on it.
    """
    if anomaly is not None and anomaly not in ANOMALIES:
        raise ValueError(f"unknown anomaly {anomaly!r}; choose from {', '.join(ANOMALIES)}")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "test.json").write_text(json.dumps({**TEST, "name": f"queue-scale-{anomaly or 'valid'}"}, indent=2))
    rng = random.Random(seed)
    with open(run_dir / "history.jsonl", "w", encoding="utf-8", buffering=1 << 20) as out:
        run = _Run(_Writer(out), rng, anomaly)
        processes = list(range(WORKERS))
        positions = [[0] * PARTITIONS for _ in range(WORKERS)]
        for worker in range(WORKERS):
            run.assign(worker)
        for at in range(ops):
            if at and at % FAULT_EVERY == 0:
                run.fault(at // FAULT_EVERY - 1)
            worker = at % WORKERS
            if rng.random() < 0.5:
                if not run.send(processes[worker], at, ops):
                    processes[worker] += WORKERS
                    positions[worker] = [0] * PARTITIONS
                    run.assign(processes[worker])
            else:
                run.poll(processes[worker], positions[worker], at, ops)
        run.final_reads(10_000 * WORKERS)
    return run_dir
