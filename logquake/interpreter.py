"""The interpreter: how a generator's operations reach real clients, and their completions come back (Jepsen's).

`drive` asks the generator for operations, dispatches each when it is due to the thread it names,
and folds every invocation and completion back into the generator. It runs against an Executor:
`Pool`, one worker thread per client process and one for the nemesis, each invoking its
client (or the nemesis) and writing both ends of every operation to the history; or
`SimulatedExecutor`, a virtual clock on which `simulate` dry-runs a schedule in no time.

A worker whose operation ended `info` continues as a fresh process (`ProcessTable`): the old one
may still have that operation in flight somewhere, and a process never has two.
"""

from __future__ import annotations

import heapq
import logging
import queue
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.generator import SECOND, Context, Generator, Invocation, Pending, Thread, Update
from harness.history import NEMESIS, HistoryWriter, Process
from harness.seams import Client, Completion, Nemesis, failed, ok, unknown

_log = logging.getLogger(__name__)


class Executor(Protocol):
    """Where the interpreter sends operations: real worker threads, or `SimulatedExecutor`."""

    def now(self) -> int: ...

    def dispatch(self, op: Invocation) -> None: ...

    def wait(self, until: int | None) -> Update | None:
        """The next completion (with its "thread"), or None once `until` has passed without one."""
        ...


class GeneratorStuck(RuntimeError):
    """The generator waits for a completion while nothing is in flight: a bug in a generator."""


def drive(gen: Generator, threads: Iterable[Thread], executor: Executor, rng: random.Random) -> None:
    """Jepsen's interpreter loop: ask for an op, dispatch it when due, fold completions back in."""
    everyone = frozenset(threads)
    busy: set[Thread] = set()

    def context() -> Context:
        return Context(executor.now(), everyone, everyone - busy, rng)

    while True:
        ctx = context()
        result = gen.op(ctx)
        if result is None:
            break
        item, following = result
        if isinstance(item, Pending):
            gen = following
            if item.until is None and not busy:
                raise GeneratorStuck(f"{type(gen).__name__} is pending with no operation in flight")
            event = executor.wait(item.until)
        elif item["time"] > ctx.time:
            event = executor.wait(item["time"])
        else:
            executor.dispatch(item)
            busy.add(item["thread"])
            gen = following.update(context(), {**item, "type": "invoke"})
            continue
        if event is not None:
            busy.discard(event["thread"])
            gen = gen.update(context(), event)
    while busy:
        event = executor.wait(None)
        if event is not None:
            busy.discard(event["thread"])
            gen = gen.update(context(), event)


@dataclass
class SimulatedExecutor:
    """Virtual time: each op completes `latency(op)` ns after dispatch with `complete(op)` as (type, value)."""

    latency: Callable[[Invocation], int]
    complete: Callable[[Invocation], tuple[str, Any]]
    time: int = 0
    log: list[Update] = field(default_factory=list)
    _queue: list[tuple[int, int, Update]] = field(default_factory=list)

    def now(self) -> int:
        return self.time

    def dispatch(self, op: Invocation) -> None:
        invoke = {**op, "type": "invoke", "time": self.time}
        self.log.append(invoke)
        type_, value = self.complete(op)
        done = {**invoke, "type": type_, "value": value, "time": self.time + self.latency(op)}
        heapq.heappush(self._queue, (done["time"], len(self.log), done))

    def wait(self, until: int | None) -> Update | None:
        if self._queue and (until is None or self._queue[0][0] <= until):
            self.time, _, done = heapq.heappop(self._queue)
            self.log.append(done)
            return done
        if until is None:
            raise GeneratorStuck("waiting for a completion with none in flight")
        self.time = max(self.time, until)
        return None


def simulate(
    gen: Generator,
    workers: int,
    seed: int,
    latency: Callable[[Invocation], int] = lambda op: SECOND // 100,
    complete: Callable[[Invocation], tuple[str, Any]] = lambda op: ("ok", op.get("value")),
) -> list[Update]:
    """Every invocation and completion `gen` yields on a virtual clock: a dry run of a schedule."""
    executor = SimulatedExecutor(latency, complete)
    drive(gen, [*range(workers), NEMESIS], executor, random.Random(seed))
    return executor.log


class ProcessTable:
    """Which process each worker thread currently is (Jepsen's rule).

    A thread whose op ended in `info` may still have that op in flight somewhere, so it
    continues as a fresh process: process numbers never have two ops outstanding.
    """

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._current = list(range(threads))

    def process(self, thread: int) -> int:
        return self._current[thread]

    def retire(self, thread: int) -> int:
        """The thread's next process number after an `info`."""
        self._current[thread] += self._threads
        return self._current[thread]


class Pool:
    """The real executor for `drive`: dispatches each op to its thread's worker and hands back completions."""

    def __init__(self, concurrency: int, open_client: Callable[[int], Client], history: HistoryWriter,
                 nemesis: Nemesis | None) -> None:
        self.open_client = open_client
        self.history = history
        self.processes = ProcessTable(concurrency)
        self.completions: queue.Queue[Update] = queue.Queue()
        self.workers: dict[Thread, Worker] = {t: ClientWorker(t, self) for t in range(concurrency)}
        if nemesis is not None:
            self.workers[NEMESIS] = NemesisWorker(self, nemesis)
        for worker in self.workers.values():
            worker.start()

    @property
    def threads(self) -> list[Thread]:
        return list(self.workers)

    def now(self) -> int:
        return self.history.elapsed_ns()

    def process_of(self, thread: Thread) -> Process:
        return NEMESIS if thread == NEMESIS else self.processes.process(int(thread))

    def dispatch(self, op: Invocation) -> None:
        self.history.append(self.process_of(op["thread"]), "invoke", op["f"], op["value"])
        self.workers[op["thread"]].inbox.put(op)

    def wait(self, until: int | None) -> Update | None:
        while True:
            remaining = 0.5 if until is None else min(0.5, (until - self.now()) / SECOND)
            if remaining <= 0:
                return None
            try:
                return self.completions.get(timeout=remaining)
            except queue.Empty:
                if until is not None and self.now() >= until:
                    return None

    def fresh_clients(self) -> None:
        """Between phases: every worker opens a new client before its next op (final reads start clean)."""
        for worker in self.workers.values():
            if isinstance(worker, ClientWorker):
                worker.inbox.put(RENEW)

    def close(self, timeout: float) -> None:
        for worker in self.workers.values():
            worker.inbox.put(None)
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                _log.warning("worker %s still busy after %.0fs; abandoning it", worker.name, timeout)


RENEW: Invocation = {"f": "renew"}
"""Between phases, in a worker's inbox: close the client; the next op opens a fresh one."""


class Worker(threading.Thread, ABC):
    def __init__(self, thread: Thread, pool: Pool) -> None:
        super().__init__(name=f"worker-{thread}", daemon=True)
        self.thread = thread
        self.pool = pool
        self.inbox: queue.Queue[Invocation | None] = queue.Queue()

    def run(self) -> None:
        try:
            while (op := self.inbox.get()) is not None:
                if op is RENEW:
                    self.renew()
                    continue
                process = self.pool.process_of(self.thread)
                completion = self.perform(op, process)
                self.pool.history.append(process, completion["type"], op["f"], completion.get("value", op["value"]),
                                         completion.get("error"))
                if completion["type"] == "info":
                    self.retire()
                self.pool.completions.put({**op, "type": completion["type"]} | (
                    {"value": completion["value"]} if "value" in completion else {}))
        finally:
            self.renew()

    @abstractmethod
    def perform(self, op: Invocation, process: Process) -> Completion:
        """What happened to op; never raises: an exception is an unknown outcome."""

    def renew(self) -> None:
        """Drop whatever connection state the worker holds."""

    def retire(self) -> None:
        """After an unknown outcome the thread continues as a fresh process."""


class ClientWorker(Worker):
    client: Client | None = None

    def perform(self, op: Invocation, process: Process) -> Completion:
        if self.client is None:
            try:
                self.client = self.pool.open_client(int(process))
            except Exception as error:  # nothing was sent without a client
                return failed(f"could not open a client: {type(error).__name__}: {error}")
        try:
            return self.client.invoke(op)
        except Exception as error:  # an exception mid-request leaves the outcome unknown
            _log.exception("process %s: %s failed unexpectedly", process, op["f"])
            return unknown(f"{type(error).__name__}: {error}")

    def retire(self) -> None:
        self.pool.processes.retire(int(self.thread))
        self.renew()

    def renew(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:
                _log.exception("closing a client of worker %s", self.thread)
            self.client = None


class NemesisWorker(Worker):
    def __init__(self, pool: Pool, nemesis: Nemesis) -> None:
        super().__init__(NEMESIS, pool)
        self.nemesis = nemesis

    def perform(self, op: Invocation, process: Process) -> Completion:
        try:
            return ok(self.nemesis.invoke(op["f"], op["value"]))
        except Exception as error:  # a fault half-applied is an unknown outcome, never a clean failure
            _log.exception("nemesis %s %s", op["f"], op["value"])
            return unknown(f"{type(error).__name__}: {error}")
