"""A run, start to end: setup, workload and nemesis under the interpreter, heal, final phase, teardown, checks.

The runner owns the lifecycle and nothing else: the workload (found in the registry) says what
its operations mean, the interpreter (logquake.interpreter) carries them to real clients, the
nemesis injects faults, the deployment is the cluster. The main thread owns the cleanup:
whatever happens (Ctrl-C, a crash of the harness, a failed setup) faults are healed, clients
closed, the cluster torn down with its logs collected, and the history checked as far as it
goes, with the results marked "interrupted".
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import nemesis
from checkers.compose import check_verdict, draw
from cluster.deploy.deployment import ClusterSpec
from cluster.deploy.deployment import deploy as deploy_cluster
from harness.generator import SECOND, Generator, TimeLimit, any_of, phases
from harness.history import NEMESIS, HistoryWriter, collector_paused, load_history, read_history
from harness.seams import Deployment, Nemesis
from harness.spec import TestSpec
from harness.workload import Workload
from logquake import store
from logquake.interpreter import Pool, drive
from logquake.progress import Progress, availability_summary, fault_summary, table
from logquake.registry import WORKLOADS, Registry
from logquake.signals import sigint_ignored
from nemesis.schedule import fault_schedule
from workloads.amqp.options import AmqpOptions

_log = logging.getLogger(__name__)

INTERRUPTED = "interrupted by the user (SIGINT)"
"""The problem of a run Ctrl-C stopped: whoever runs several (logquake verify) stops there too."""
SHOWN_REASONS = 12
"""Reasons printed under the verdict at most."""

NemesisFactory = Callable[[TestSpec, Workload, Deployment, random.Random], Nemesis]


def deploy(spec: TestSpec, work_dir: Path) -> Deployment:
    """The run's cluster; every node's data directory on a fault filesystem when a fault needs one, every node
    behind proxies when a proxy fault is named, every node's wall clock under control when a clock fault is."""
    cluster = ClusterSpec(keepers=spec.keepers, brokers=spec.brokers, broker_overrides=spec.broker_overrides,
                          keeper_overrides=spec.keeper_overrides, keeper_kind=spec.target,
                          fault_disks=nemesis.needs_fault_disks(spec.nemesis),
                          proxied=nemesis.needs_proxies(spec.nemesis), clocks=nemesis.needs_clocks(spec.nemesis),
                          fault_disk_entries=nemesis.disk_entries(spec.nemesis, spec.nemesis_options),
                          system=spec.system, partition_handling=spec.partition_handling,
                          queue_mirroring=isinstance(spec.options, AmqpOptions) and spec.options.mirrored,
                          net_ticktime=spec.net_ticktime)
    return deploy_cluster(cluster, spec.backend, work_dir)


def default_nemesis(spec: TestSpec, workload: Workload, deployment: Deployment, rng: random.Random) -> Nemesis:
    options = {"rng": rng, "roles": workload.roles, **workload.nemesis_options(spec),
               "nemesis_options": spec.nemesis_options}
    return nemesis.build(list(spec.nemesis), deployment, options)


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


def record_heal(history: HistoryWriter, nemesis: Nemesis) -> None:
    """Undo every fault through the nemesis itself, as one "heal" op of the nemesis process."""
    history.append(NEMESIS, "invoke", "heal", None)
    try:
        history.append(NEMESIS, "ok", "heal", nemesis.heal())
    except Exception as error:
        _log.exception("healing failed")
        history.append(NEMESIS, "info", "heal", None, f"{type(error).__name__}: {error}")


class Run:
    def __init__(self, spec: TestSpec, workload: Workload, run_dir: Path, build_nemesis: NemesisFactory,
                 stream: IO[str]) -> None:
        self.spec = spec
        self.workload = workload
        self.run_dir = run_dir
        self.build_nemesis = build_nemesis
        self.rng = random.Random(spec.seed)
        self.history = HistoryWriter(run_dir / store.HISTORY)
        self.deployment: Deployment | None = None
        self.nemesis: Nemesis | None = None
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
        deployment = self.set_up()
        spec = self.spec
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
        if self.workload.has_final_phase:
            self.final_phase(deployment)

    def set_up(self) -> Deployment:
        spec = self.spec
        cluster = (f"{spec.brokers} RabbitMQ node(s), partition handling {spec.partition_handling}, "
                   f"net_ticktime {spec.net_ticktime} s" if spec.system == "rabbitmq" else f"{spec.brokers} broker(s), {spec.keepers} {spec.target}(s)")
        self.phase("setup", f"deploying {cluster} on backend {spec.backend}")
        self.deployment = deployment = deploy(spec, self.run_dir / "cluster")
        deployment.up()
        self.phase("setup", f"cluster up ({deployment.backend}): "
                            f"{deployment.bootstrap_servers or deployment.keeper_connect}; "
                            f"preparing the {spec.workload} workload")
        self.phase("setup", self.workload.setup(spec, deployment))
        if spec.nemesis:
            # a Random of its own: the nemesis thread alone draws from it, so its draws (which nodes a share
            # names) follow from the seed, not from how client ops interleaved with them
            self.nemesis = self.build_nemesis(spec, self.workload, deployment, random.Random(f"nemesis/{spec.seed}"))
        return deployment

    def final_phase(self, deployment: Deployment) -> None:
        spec = self.spec
        assert self.pool is not None, "the final phase follows the main one"
        self.phase("settle", f"letting the cluster settle for {spec.settle_time:g}s")
        time.sleep(spec.settle_time)
        final = self.workload.final_phase(spec, deployment, read_history(self.history.path), self.progress.say)
        self.phase("final", f"{final.description} (at most {spec.final_time_limit:g}s)")
        self.pool.fresh_clients()
        self.drive(TimeLimit(round(spec.final_time_limit * SECOND), final.generator))

    def nemesis_phases(self, limit: int) -> Generator:
        """Faults until the time limit, then a stop for each kind at once, while client ops still drain."""
        if self.nemesis is None:
            return phases()
        targets = self.spec.nemesis_targets or self.workload.fault_targets(self.spec)
        return fault_schedule(self.spec.nemesis, tuple(targets), round(self.spec.nemesis_interval * SECOND), limit,
                              self.spec.seed)

    def drive(self, gen: Generator) -> None:
        assert self.pool is not None, "operations need the workers"
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
        stream: IO[str] | None = None, workloads: Registry = WORKLOADS, plots: bool = True) -> RunOutcome:
    """Runs the test and checks it; Ctrl-C or an error anywhere still heals, tears down and checks what exists.
    Without `plots`, the check writes results.json only (check_run)."""
    workload = workloads[spec.workload]
    stream = stream or sys.stderr
    run_dir = store.new_run_dir(store_root, spec.name)
    store.write_json(run_dir / store.TEST, spec.to_dict())
    log_handler = _log_to(run_dir / store.HARNESS_LOG)
    execution = Run(spec, workload, run_dir, build_nemesis, stream)
    problem: str | None = None
    try:
        execution.execute()
    except KeyboardInterrupt:
        problem = INTERRUPTED
    except Exception as error:
        _log.exception("the run failed")
        problem = f"the run failed: {type(error).__name__}: {error}"
    finally:
        with sigint_ignored():
            execution.clean_up()
    if problem:
        execution.progress.say(problem)
    results = check_run(run_dir, problem, workloads, plots)
    logging.getLogger().removeHandler(log_handler)
    log_handler.close()
    return RunOutcome(run_dir, results, exit_code(results))


def check_run(run_dir: Path, problem: str | None = None, workloads: Registry = WORKLOADS, plots: bool = True,
              on_verdict: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """(Re)checks a stored run from test.json and history.jsonl: results.json first (then `on_verdict` is told),
    then, unless `plots` is false, the plots, the timeline and report.html, and results.json again with their files.

    A run that was interrupted stays marked so when re-checked.
    """
    test = store.read_json(run_dir / store.TEST)
    workload = workloads[workloads.spec_from_dict(test).workload]
    previous = store.read_json(run_dir / store.RESULTS) if (run_dir / store.RESULTS).exists() else {}
    started = time.perf_counter()
    with collector_paused():
        history = load_history(run_dir / store.HISTORY)
        _log.debug("check stage %s took %.3f s", "read", time.perf_counter() - started)
        checked = check_verdict(test, history, run_dir, workload.name, workload.check, workload.partition_writes)
    results = checked.results
    problem = problem or previous.get("problem")
    if problem:
        results["interrupted"] = True
        results["problem"] = problem
    store.write_json(run_dir / store.RESULTS, results)
    if on_verdict is not None:
        on_verdict(results)
    if not plots:
        return results
    from logquake.report import write_report  # here: it brings in matplotlib, which a verdict never needs

    draw(test, history, run_dir, checked)
    store.write_json(run_dir / store.RESULTS, results)
    started = time.perf_counter()
    try:
        write_report(run_dir)
    except Exception:
        _log.exception("writing report.html failed")
    _log.debug("check stage %s took %.3f s", "report", time.perf_counter() - started)
    return results


def summary(results: dict[str, Any], run_dir: Path, drawn: bool = True) -> str:
    """The end-of-run text: verdict_summary's, then where the report is (`drawn`: whether this check drew one)."""
    return f"{verdict_summary(results)}\n{where(run_dir, drawn)}"


def where(run_dir: Path, drawn: bool = True) -> str:
    """report.html when it was drawn, or else the run directory (its results.json)."""
    report = run_dir / store.REPORT
    return f"report: {report if drawn and report.exists() else run_dir}"


def verdict_summary(results: dict[str, Any]) -> str:
    """Outcomes per operation, the faults that ran, availability under them, the verdict."""
    stats = results.get("stats", {})
    rows = []
    for f, outcomes in sorted((stats.get("by_f") or {}).items()):
        if isinstance(outcomes, dict):
            rows.append([f, *(int(outcomes.get(t, 0)) for t in ("ok", "fail", "info"))])
    lines = [table(["op", "ok", "fail", "info"], rows)] if rows else []
    lines += fault_summary(results.get("faults"))
    lines += availability_summary(results.get("availability"))
    verdict = "VALID" if results.get("valid") is True else "INVALID" if results.get("valid") is False else "UNKNOWN"
    if results.get("interrupted"):
        verdict += f" (partial: {results.get('problem', 'interrupted')})"
    lines.append(f"verdict: {verdict}")
    lines += _shown_reasons(results)
    return "\n".join(lines)


def _shown_reasons(results: dict[str, Any]) -> list[str]:
    """Why the verdict is what it is, under it, so that a log of the run alone says what was found
    (results.json and the report hold them all)."""
    reasons = [reason for reason in verdict_reasons(results) if reason != results.get("problem")]
    shown = [f"  {reason}" for reason in reasons[:SHOWN_REASONS]]
    if len(reasons) > SHOWN_REASONS:
        shown.append(f"  ... and {len(reasons) - SHOWN_REASONS} more in results.json")
    return shown


def verdict_reasons(results: dict[str, Any]) -> list[str]:
    """Why the verdict is what it is: the run's problem, every checker's reasons, and checkers that crashed."""
    reasons = [str(results["problem"])] if results.get("problem") else []
    for part in results.values():
        if isinstance(part, dict):
            reasons += [str(line) for line in part.get("reasons") or ()]
    errors = results.get("errors")
    if isinstance(errors, dict):
        reasons += [f"checker {name} failed: {error}" for name, error in errors.items()]
    return reasons


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler

