"""A run, start to end: setup, workload and nemesis under the generator, heal, final phase, teardown, checks.

Workers are threads, each with its own real client of the workload (workloads.workload: a Kafka
producer and consumer for queue and log, a kazoo client for register); one more thread runs the
nemesis. The main thread drives the generator (logquake.generator.drive) and owns the cleanup:
whatever happens (Ctrl-C, a crash of the harness, a failed setup) faults are healed, clients
closed, the cluster torn down with its logs collected, and the history checked as far as it goes,
with the results marked "interrupted".
"""

from __future__ import annotations

import logging
import queue
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from logquake import store
from logquake.generator import NEMESIS, SECOND, FaultSchedule, Generator, Op, Thread, TimeLimit, any_of, drive
from logquake.generator import heal_all, phases
from logquake.generator import nemesis as on_nemesis
from logquake.history import HistoryWriter, ProcessTable, read_history
from logquake.progress import Progress, table
from logquake.spec import TestSpec
from workloads import workload
from workloads.workload import Client, Workload, failed, ok, unknown

_log = logging.getLogger(__name__)

NemesisFactory = Callable[[TestSpec, Any, random.Random], Any]


def deploy(spec: TestSpec, work_dir: Path) -> Any:
    from cluster.deploy.deployment import ClusterSpec, deploy

    return deploy(ClusterSpec(keepers=spec.keepers, brokers=spec.brokers, broker_overrides=spec.broker_overrides,
                              keeper_kind=spec.target), spec.backend, work_dir)


def default_nemesis(spec: TestSpec, deployment: Any, rng: random.Random) -> Any:
    import nemesis

    return nemesis.build(list(spec.nemesis), deployment, {"rng": rng, "topic": spec.topic, "partition": 0,
                                                          "roles": workload(spec.workload).roles})


@dataclass
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]
    exit_code: int


def exit_code(results: dict[str, Any]) -> int:
    """0 valid, 1 invalid, 2 the run failed, was interrupted, or the checkers cannot tell (Jepsen's codes)."""
    if results.get("interrupted"):
        return 2
    if results.get("valid") is True:
        return 0
    return 1 if results.get("valid") is False else 2


class Pool:
    """The real executor for `drive`: dispatches each op to its thread's worker and hands back completions."""

    def __init__(self, concurrency: int, open_client: Callable[[int], Client], history: HistoryWriter,
                 nemesis: Any | None) -> None:
        self.open_client = open_client
        self.history = history
        self.nemesis = nemesis
        self.processes = ProcessTable(concurrency)
        self.completions: queue.Queue[Op] = queue.Queue()
        self.workers: dict[Thread, Worker] = {t: ClientWorker(t, self) for t in range(concurrency)}
        if nemesis is not None:
            self.workers[NEMESIS] = NemesisWorker(NEMESIS, self)
        for worker in self.workers.values():
            worker.start()

    @property
    def threads(self) -> list[Thread]:
        return list(self.workers)

    def now(self) -> int:
        return self.history.elapsed_ns()

    def process_of(self, thread: Thread) -> int | str:
        return NEMESIS if thread == NEMESIS else self.processes.process(int(thread))

    def dispatch(self, op: Op) -> None:
        self.history.append(self.process_of(op["thread"]), "invoke", op["f"], op["value"])
        self.workers[op["thread"]].inbox.put(op)

    def wait(self, until: int | None) -> Op | None:
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


RENEW: Op = {"f": "renew"}


class Worker(threading.Thread):
    def __init__(self, thread: Thread, pool: Pool) -> None:
        super().__init__(name=f"worker-{thread}", daemon=True)
        self.thread = thread
        self.pool = pool
        self.inbox: queue.Queue[Op | None] = queue.Queue()

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

    def perform(self, op: Op, process: int | str) -> dict[str, Any]:
        raise NotImplementedError

    def renew(self) -> None:
        """Drop whatever connection state the worker holds."""

    def retire(self) -> None:
        """After an unknown outcome the thread continues as a fresh process."""


class ClientWorker(Worker):
    client: Client | None = None

    def perform(self, op: Op, process: int | str) -> dict[str, Any]:
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
    def perform(self, op: Op, process: int | str) -> dict[str, Any]:
        try:
            assert self.pool.nemesis is not None, "a nemesis worker exists only with a nemesis"
            return ok(self.pool.nemesis.invoke(op["f"], op["value"]))
        except Exception as error:  # a fault half-applied is an unknown outcome, never a clean failure
            _log.exception("nemesis %s %s", op["f"], op["value"])
            return unknown(f"{type(error).__name__}: {error}")


def record_heal(history: HistoryWriter, nemesis: Any) -> None:
    """Undo every fault through the nemesis itself, as one "heal" op of the nemesis process."""
    history.append(NEMESIS, "invoke", "heal", None)
    try:
        history.append(NEMESIS, "ok", "heal", nemesis.heal())
    except Exception as error:
        _log.exception("healing failed")
        history.append(NEMESIS, "info", "heal", None, f"{type(error).__name__}: {error}")


class Run:
    def __init__(self, spec: TestSpec, run_dir: Path, build_nemesis: NemesisFactory, stream: IO[str]) -> None:
        self.spec = spec
        self.workload: Workload = workload(spec.workload)
        self.run_dir = run_dir
        self.build_nemesis = build_nemesis
        self.rng = random.Random(spec.seed)
        self.history = HistoryWriter(run_dir / store.HISTORY)
        self.deployment: Any = None
        self.nemesis: Any = None
        self.pool: Pool | None = None
        self.progress = Progress(spec.time_limit, self.active_faults, stream)
        self.history.subscribe(self.progress.observe)

    def active_faults(self) -> list[str]:
        return list(self.nemesis.active()) if self.nemesis is not None else []

    def phase(self, name: str, message: str) -> None:
        self.progress.phase = name
        self.progress.say(message)
        _log.info("%s", message)

    def execute(self) -> None:
        spec = self.spec
        self.phase("setup", f"deploying {spec.brokers} broker(s), {spec.keepers} {spec.target}(s) "
                            f"on backend {spec.backend}")
        self.deployment = deploy(spec, self.run_dir / "cluster")
        self.deployment.up()
        self.phase("setup", f"cluster up ({self.deployment.backend}): "
                            f"{self.deployment.bootstrap_servers or self.deployment.keeper_connect}; "
                            f"preparing the {spec.workload} workload")
        self.phase("setup", self.workload.setup(spec, self.deployment))
        if spec.nemesis:
            self.nemesis = self.build_nemesis(spec, self.deployment, self.rng)
        deployment = self.deployment
        self.pool = Pool(spec.concurrency, lambda process: self.workload.open_client(spec, deployment, process),
                         self.history, self.nemesis)
        self.progress.start()
        self.phase("main", f"running for {spec.time_limit:g}s: {spec.concurrency} workers at {spec.rate:g} ops/s, "
                           f"nemesis {','.join(spec.nemesis) or 'none'}")
        limit = round(spec.time_limit * SECOND)
        self.drive(any_of(TimeLimit(limit, self.workload.generator(spec)), self.nemesis_phases(limit)))
        if self.nemesis is not None:
            self.phase("heal", "workload over; making sure every fault is healed")
            record_heal(self.history, self.nemesis)
            self.nemesis = None
        if not self.workload.has_final_phase:
            return
        self.phase("settle", f"letting the cluster settle for {spec.settle_time:g}s")
        time.sleep(spec.settle_time)
        final = self.workload.final_phase(spec, self.deployment, read_history(self.history.path),
                                          self.progress.say)
        self.phase("final", f"{final.description} (at most {spec.final_time_limit:g}s)")
        self.pool.fresh_clients()
        self.drive(TimeLimit(round(spec.final_time_limit * SECOND), final.generator))

    def nemesis_phases(self, limit: int) -> Generator:
        """Faults until the time limit, then a stop for each kind at once, while client ops still drain."""
        if self.nemesis is None:
            return phases()
        interval = round(self.spec.nemesis_interval * SECOND)
        targets = self.spec.nemesis_targets or self.workload.fault_targets(self.spec)
        schedule = FaultSchedule(tuple(self.spec.nemesis), tuple(targets), interval)
        return on_nemesis(phases(TimeLimit(limit, schedule), heal_all(self.spec.nemesis)))

    def drive(self, gen: Generator) -> None:
        assert self.pool is not None
        drive(gen, self.pool.threads, self.pool, self.rng)

    def clean_up(self) -> None:
        """Heal, close, tear down: each step attempted even when an earlier one failed."""
        self.phase("teardown", "healing faults, closing clients, tearing the cluster down")
        if self.nemesis is not None:
            record_heal(self.history, self.nemesis)
            self.nemesis = None
        if self.pool is not None:
            self.pool.close(timeout=self.spec.op_timeout + 10)
        if self.deployment is not None:
            try:
                self.deployment.down(logs_to=self.run_dir / store.NODE_LOGS)
            except Exception:
                _log.exception("tearing the cluster down failed")
        self.progress.stop()
        self.history.close()


def run(spec: TestSpec, store_root: Path, build_nemesis: NemesisFactory = default_nemesis,
        stream: IO[str] | None = None) -> RunOutcome:
    """Runs the test and checks it; Ctrl-C or an error anywhere still heals, tears down and checks what exists."""
    stream = stream or sys.stderr
    run_dir = store.new_run_dir(store_root, spec.name)
    store.write_json(run_dir / store.TEST, spec.to_dict())
    log_handler = _log_to(run_dir / store.HARNESS_LOG)
    execution = Run(spec, run_dir, build_nemesis, stream)
    problem: str | None = None
    try:
        execution.execute()
    except KeyboardInterrupt:
        problem = "interrupted by the user (SIGINT)"
    except Exception as error:
        _log.exception("the run failed")
        problem = f"the run failed: {type(error).__name__}: {error}"
    finally:
        previous = _ignore_sigint()
        try:
            execution.clean_up()
        finally:
            _restore_sigint(previous)
    if problem:
        execution.progress.say(problem)
    results = check_run(run_dir, problem)
    logging.getLogger().removeHandler(log_handler)
    log_handler.close()
    return RunOutcome(run_dir, results, exit_code(results))


def check_run(run_dir: Path, problem: str | None = None) -> dict[str, Any]:
    """(Re)checks a stored run: results.json and report.html from test.json and history.jsonl.

    A run that was interrupted stays marked so when re-checked.
    """
    from checkers import run_checks

    test = store.read_json(run_dir / store.TEST)
    TestSpec.from_dict(test)
    previous = store.read_json(run_dir / store.RESULTS) if (run_dir / store.RESULTS).exists() else {}
    results = run_checks(test, read_history(run_dir / store.HISTORY), run_dir)
    problem = problem or previous.get("problem")
    if problem:
        results["interrupted"] = True
        results["problem"] = problem
    store.write_json(run_dir / store.RESULTS, results)
    try:
        from logquake.report import write_report

        write_report(run_dir)
    except Exception:
        _log.exception("writing report.html failed")
    return results


def summary(results: dict[str, Any], run_dir: Path) -> str:
    """The end-of-run text: outcomes per operation, the verdict, where the report is."""
    stats = results.get("stats", {})
    rows = []
    for f, outcomes in sorted((stats.get("by_f") or {}).items()):
        if isinstance(outcomes, dict):
            rows.append([f, *(int(outcomes.get(t, 0)) for t in ("ok", "fail", "info"))])
    lines = [table(["op", "ok", "fail", "info"], rows)] if rows else []
    verdict = "VALID" if results.get("valid") is True else "INVALID" if results.get("valid") is False else "UNKNOWN"
    if results.get("interrupted"):
        verdict += f" (partial: {results.get('problem', 'interrupted')})"
    lines.append(f"verdict: {verdict}")
    report = run_dir / store.REPORT
    lines.append(f"report: {report if report.exists() else run_dir}")
    return "\n".join(lines)


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def _ignore_sigint() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_sigint(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
