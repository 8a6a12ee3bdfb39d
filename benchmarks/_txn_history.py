"""Synthetic transactional runs at any size, in the format of docs/txn-checker.md, with a queue-shaped twin.

One simulated Kafka with transactions and read_committed: workers each keep a transaction in flight,
which takes effect at the instant it completes. Its polls read committed records from the worker's
positions in its keys, at most a few a key and never past a record of an open transaction (its own),
so a poll may stop inside another transaction's records; its sends are appended, then a marker in
each key written, so offsets are sparse. Some abort on purpose (fail), a few end unknown (info, and
the worker goes on as a fresh process). Then final reads of every key from the start. The twin history holds the same sends and polls as queue ops,
one op each (an aborted transaction's sends as failed sends), for the queue checker to read as the
baseline. Injected anomalies come after the run, by fresh processes: an aborted read (G1a) and
circular information flow (a G1c of two transactions reading each other).
"""

from __future__ import annotations

import heapq
import random
from pathlib import Path
from typing import IO, Any

import orjson

INJECTED = ("G1a", "G1c")
"""What an injected run must show, forbidden."""
WORKERS = 10
KEYS = 24
KEYS_PER_WORKER = 4
ABORT_P = 0.05
INFO_P = 0.002
TEST = {"name": "txn-bench", "workload": "txn", "acks": "all", "idempotence": True, "txn": True,
        "isolation_level": "read_committed", "mode": "assign", "broker_overrides": {}, "partitions": KEYS}


class _Writer:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.index = 0

    def event(self, time: int, process: int, type_: str, f: str, value: Any) -> None:
        self.out.write(orjson.dumps({"index": self.index, "time": time, "process": process, "type": type_, "f": f,
                                     "value": value}) + b"\n")
        self.index += 1


class _Run:
    def __init__(self, txns: _Writer, queue: _Writer, seed: int) -> None:
        self.txns, self.queue = txns, queue
        self.rng = random.Random(seed)
        self.logs: list[list[list[Any]]] = [[] for _ in range(KEYS)]
        """Per key, [value or None for a marker, committed: True, False (aborted) or None (still open)] per offset."""
        self.positions: dict[int, dict[int, int]] = {}
        self.next_value = 0
        self.next_process = WORKERS

    def transaction(self, process: int) -> list[list[Any]]:
        keys = self.keys(process)
        mops: list[list[Any]] = []
        for _ in range(self.rng.randint(1, 4)):
            if self.rng.random() < 0.5:
                self.next_value += 1
                mops.append(["send", self.rng.choice(keys), self.next_value])
            else:
                mops.append(["poll"])
        return mops

    def keys(self, process: int) -> list[int]:
        first = process * 7 % KEYS
        return [(first + i) % KEYS for i in range(KEYS_PER_WORKER)]

    def apply(self, process: int, asked: list[list[Any]], commit: bool) -> list[list[Any]]:
        positions = dict(self.positions.setdefault(process, dict.fromkeys(self.keys(process), 0)))
        done: list[list[Any]] = []
        written: list[list[Any]] = []
        for mop in asked:
            if mop[0] == "send":
                log = self.logs[mop[1]]
                written.append([mop[2], None])
                log.append(written[-1])
                done.append(["send", mop[1], [len(log) - 1, mop[2]]])
            else:
                done.append(["poll", self.read(positions)])
        for key in {mop[1] for mop in asked if mop[0] == "send"}:
            self.logs[key].append([None, True])
        for record in written:
            record[1] = commit
        if commit:
            self.positions[process] = positions
        return done

    def read(self, positions: dict[int, int]) -> dict[str, list[list[Any]]]:
        reads: dict[str, list[list[Any]]] = {}
        for key in positions:
            log, limit, records = self.logs[key], self.rng.randint(0, 5), []
            while positions[key] < len(log) and len(records) < limit and log[positions[key]][1] is not None:
                value, committed = log[positions[key]]
                if value is not None and committed:
                    records.append([positions[key], value])
                positions[key] += 1
            if records:
                reads[str(key)] = records
        return reads

    def twin(self, time: int, process: int, done: list[list[Any]], type_: str) -> None:
        """The transaction's micro-ops as queue ops."""
        for mop in done:
            if mop[0] == "send":
                offset, value = mop[2] if type_ == "ok" else (None, mop[2])
                asked = {"partition": mop[1], "value": value}
                self.queue.event(time, process, "invoke", "send", asked)
                self.queue.event(time, process, type_, "send", {**asked, "offset": offset} if type_ == "ok" else asked)
            elif type_ == "ok":
                self.queue.event(time, process, "invoke", "poll", None)
                self.queue.event(time, process, "ok", "poll", mop[1])

    def run(self, count: int) -> None:
        """`count` transactions by WORKERS workers, each completing 1-3 ms after its invoke."""
        pending: list[tuple[int, int, int]] = []
        asked: dict[int, list[list[Any]]] = {}
        for process in range(WORKERS):
            heapq.heappush(pending, (self.rng.randrange(1_000_000), 0, process))
        started = 0
        while pending:
            time, completing, process = heapq.heappop(pending)
            if not completing:
                if started >= count:
                    continue
                started += 1
                asked[process] = self.transaction(process)
                self.txns.event(time, process, "invoke", "txn", asked[process])
                heapq.heappush(pending, (time + self.rng.randrange(1_000_000, 3_000_000), 1, process))
                continue
            if self.complete(time, process, asked.pop(process)) == "info":
                process = self.fresh_process()
            heapq.heappush(pending, (time + self.rng.randrange(100_000, 500_000), 0, process))

    def complete(self, time: int, process: int, asked: list[list[Any]]) -> str:
        """Applies the transaction (committed or aborted) and writes its completion; returns its type."""
        commit = self.rng.random() >= ABORT_P
        done = self.apply(process, asked, commit)
        type_ = "info" if self.rng.random() < INFO_P else "ok" if commit else "fail"
        self.txns.event(time, process, type_, "txn", done if type_ == "ok" else asked)
        self.twin(time, process, done if type_ == "ok" else asked, type_)
        return type_

    def fresh_process(self) -> int:
        self.next_process += 1
        return self.next_process

    def final_reads(self, time: int) -> None:
        reader = self.fresh_process()
        for key, log in enumerate(self.logs):
            reads = {str(key): [[offset, value] for offset, (value, committed) in enumerate(log)
                                if value is not None and committed]}
            self.txns.event(time, reader, "invoke", "txn", [["poll"]])
            self.txns.event(time, reader, "ok", "txn", [["poll", reads]])
            self.queue.event(time, reader, "invoke", "poll", None)
            self.queue.event(time, reader, "ok", "poll", reads)

    def inject(self, time: int) -> None:
        top = max(len(log) for log in self.logs) + 1000
        a, b, c = self.next_value + 1, self.next_value + 2, self.next_value + 3
        p, q, r = self.fresh_process(), self.fresh_process(), self.fresh_process()
        self.txns.event(time, p, "invoke", "txn", [["send", 0, a]])
        self.txns.event(time, p, "fail", "txn", [["send", 0, a]])
        self.txns.event(time, p, "invoke", "txn", [["poll"]])
        self.txns.event(time, p, "ok", "txn", [["poll", {"0": [[top, a]]}]])
        self.txns.event(time, q, "invoke", "txn", [["send", 1, b], ["poll"]])
        self.txns.event(time, r, "invoke", "txn", [["send", 2, c], ["poll"]])
        self.txns.event(time, q, "ok", "txn", [["send", 1, [top, b]], ["poll", {"2": [[top, c]]}]])
        self.txns.event(time, r, "ok", "txn", [["send", 2, [top, c]], ["poll", {"1": [[top, b]]}]])



def write_runs(directory: Path, count: int, seed: int = 1, inject: bool = False) -> tuple[Path, Path]:
    """A transactional history of `count` transactions and its queue twin, each in a run directory of its own
    (test.json, history.jsonl) under `directory`; returns the two directories."""
    txn_dir, queue_dir = directory / "txn", directory / "queue"
    for run_dir, test in ((txn_dir, TEST), (queue_dir, {**TEST, "workload": "queue", "txn": False})):
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "test.json").write_bytes(orjson.dumps(test))
    with open(txn_dir / "history.jsonl", "wb") as txns, open(queue_dir / "history.jsonl", "wb") as queue:
        run = _Run(_Writer(txns), _Writer(queue), seed)
        run.run(count)
        end = 10**15
        run.final_reads(end)
        if inject:
            run.inject(end + 1)
    return txn_dir, queue_dir
