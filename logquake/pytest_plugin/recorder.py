"""The logquake_history fixture: a test's own operations in logquake's history format, checked by its checkers.

A test records what its Kafka client did as Jepsen's ops: `op = history.invoke(process, "send",
{"partition": 0, "value": 7})`, then `op.ok({"partition": 0, "offset": 12, "value": 7})`,
`op.fail(error)` (it surely did not happen) or `op.info(error)` (nobody knows). Used as a context
manager, an op whose block raises is recorded info: a client that timed out cannot say. Events go
to history.jsonl in the test's run directory as they happen.

`history.check("queue", claim={...})` runs the workload's checker with the run's composition
(checkers.compose): results.json and report.html in the run directory. The claim is what
checkers.claim.Claim reads of a test (acks, idempotence, retries, unclean election, the client);
the cluster's own facts (brokers, keepers, broker settings) come from the logquake_cluster
fixture when the test uses one. A claim the history breaks, or one the checker cannot decide,
fails the test with the reasons, the anomaly counts and the report's path.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from checkers.claim import UNCLEAN_ELECTION
from checkers.compose import run_checks
from harness.history import NEMESIS, Event, HistoryWriter, Process, read_history
from harness.spec import SpecError
from logquake import store
from logquake.registry import WORKLOADS
from logquake.report import write_report

CLAIM_KEYS = ("acks", "idempotence", "retries", "unclean_election", "mode", "client", "replication_factor",
              "min_insync")
"""What a claim may say; the rest of a test (the cluster) comes from the logquake_cluster fixture. The topic's
replication factor and min ISR default to what the cluster allows: min(3, brokers) and min(2, that)."""


class ClaimBroken(AssertionError):
    """The recorded history breaks the claim, or the checker could not decide it: the message says which and why."""


class Operation:
    """One invoked operation, completed once with ok, fail or info."""

    def __init__(self, history: HistoryRecorder, process: Process, f: str) -> None:
        self._history = history
        self.process = process
        self.f = f
        self.completion: Event | None = None

    def ok(self, value: Any = None) -> Event:
        return self._complete("ok", value, None)

    def fail(self, error: str) -> Event:
        """The operation surely did not take effect."""
        return self._complete("fail", None, str(error))

    def info(self, error: str) -> Event:
        """Nobody knows whether the operation took effect."""
        return self._complete("info", None, str(error))

    def _complete(self, type_: str, value: Any, error: str | None) -> Event:
        if self.completion is not None:
            raise ValueError(f"{self.f} of process {self.process} is already completed "
                             f"({self.completion['type']} at index {self.completion['index']})")
        self.completion = self._history.complete(self, type_, value, error)
        return self.completion

    def __enter__(self) -> Operation:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.completion is not None:
            return
        if error is not None:
            self.info(f"{type(error).__name__}: {error}")
            return
        self.info("the block ended without ok, fail or info")
        raise ValueError(f"{self.f} of process {self.process}: the block ended without op.ok(...), op.fail(...) "
                         f"or op.info(...); recorded as info (unknown outcome)")


class HistoryRecorder:
    """What the logquake_history fixture gives a test: invoke operations, then check them."""

    def __init__(self, run_dir: Path, name: str, facts: dict[str, Any] | None = None) -> None:
        self.run_dir = run_dir
        self.name = name
        self.facts = facts or {}
        """The cluster's part of the test (LogquakeCluster.test_facts), when the test has a cluster."""
        self.writer = HistoryWriter(run_dir / store.HISTORY)
        self._in_flight: dict[Process, Operation] = {}
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.writer.path

    def invoke(self, process: Process, f: str, value: Any = None) -> Operation:
        """Starts an operation of `process` (one at a time per process, as in Jepsen)."""
        if process == NEMESIS:
            raise ValueError(f"process {NEMESIS!r} is the fault injector's: name client processes otherwise")
        with self._lock:
            if process in self._in_flight:
                raise ValueError(f"process {process} invokes {f} while its {self._in_flight[process].f} is in "
                                 f"flight: complete it first, or use another process")
            operation = Operation(self, process, f)
            self._in_flight[process] = operation
        self.writer.append(process, "invoke", f, value)
        return operation

    def complete(self, operation: Operation, type_: str, value: Any, error: str | None) -> Event:
        with self._lock:
            self._in_flight.pop(operation.process, None)
        return self.writer.append(operation.process, type_, operation.f, value, error)

    def record_nemesis(self, type_: str, f: str, value: Any, error: str | None) -> Event:
        return self.writer.append(NEMESIS, type_, f, value, error)

    def check(self, workload: str = "queue", claim: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Checks the history so far; returns the results when the claim holds, else fails the test (ClaimBroken)."""
        checker = WORKLOADS[workload]
        test = self.test(workload, claim or {})
        store.write_json(self.run_dir / store.TEST, test)
        results = run_checks(test, read_history(self.path), self.run_dir, checker.name, checker.check)
        store.write_json(self.run_dir / store.RESULTS, results)
        report = write_report(self.run_dir)
        if results["valid"] is not True:
            raise ClaimBroken(failure_message(workload, results, report))
        return results

    def test(self, workload: str, claim: Mapping[str, Any]) -> dict[str, Any]:
        """test.json: the test's name, the workload, the cluster's facts and the claim, as a stored run's spec (so
        that `logquake check` re-checks it) and as Claim.from_test reads it."""
        unknown = sorted(set(claim) - set(CLAIM_KEYS))
        if unknown:
            raise ValueError(f"claim: unknown key(s) {', '.join(unknown)}; known: {', '.join(CLAIM_KEYS)}")
        test: dict[str, Any] = {"name": self.name, "workload": workload, **self.facts}
        replicas = int(claim.get("replication_factor", min(3, int(test.get("brokers", 3)))))
        test.update({"replication_factor": replicas, "min_insync": min(2, replicas)})
        test.update({key: value for key, value in claim.items() if key != "unclean_election"})
        if "acks" in claim:
            test["acks"] = str(claim["acks"])  # acks=1 as the client's config has it, "1" as the spec does
        if "unclean_election" in claim:
            test["broker_overrides"] = {**test.get("broker_overrides", {}),
                                        UNCLEAN_ELECTION: str(bool(claim["unclean_election"])).lower()}
        try:
            return WORKLOADS.spec(**test).to_dict()
        except SpecError as error:
            raise ValueError(f"claim: {error}") from None

    def close(self) -> None:
        self.writer.close()


def failure_message(workload: str, results: dict[str, Any], report: Path) -> str:
    checked = results.get(workload) or {}
    verdict = "broke" if results["valid"] is False else "could not be decided"
    lines = [f"logquake: the {workload} claim {verdict} (valid: {results['valid']})"]
    lines += [f"  {reason}" for reason in checked.get("reasons", [])]
    counts = [f"{name} {a['count']} ({a['forbidden']} forbidden)"
              for name, a in (checked.get("anomalies") or {}).items() if a.get("count")]
    if counts:
        lines.append("anomalies: " + ", ".join(counts))
    lines += [f"  {name}: {error}" for name, error in (results.get("errors") or {}).items()]
    lines.append(f"report: {report}")
    return "\n".join(lines)
