"""The transactional workload as the runner sees it: the queue's topic and broker faults, transactions, final polls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from checkers.txn.checker import check_txn
from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import TestSpec
from harness.workload import FinalPhase, Results
from workloads.queue.client import UNREACHABLE
from workloads.queue.workload import KafkaWorkload
from workloads.txn.admin import TRANSACTION_STATE, prepare_coordinators
from workloads.txn.client import TxnClient
from workloads.txn.confluent_client import ConfluentTxnClient
from workloads.txn.kafka_python_client import KafkaPythonTxnClient
from workloads.txn.operations import committed_targets, final_polls, main_phase
from workloads.txn.options import TxnOptions


CLIENTS: dict[str, type[TxnClient]] = {"confluent-kafka": ConfluentTxnClient, "kafka-python": KafkaPythonTxnClient}


class TxnWorkload(KafkaWorkload):
    name = "txn"
    summary = "txn: Kafka transactions of sends and polls, checked for Elle's anomalies (G1a, G1c, lost writes...)"
    options = TxnOptions
    has_final_phase = True

    def variant(self, spec: TestSpec) -> str:
        """The isolation level decides most of the claim (docs/txn-checker.md): read-committed, read-uncommitted."""
        options = spec.options_as(TxnOptions)
        return options.isolation_level.replace("_", "-") if options.txn else "notxn"

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        """Connecting and init_transactions are retried while no broker or coordinator answers: nothing was sent."""
        connect: Callable[[TestSpec, str, int], TxnClient] = retry(
            stop=stop_after_delay(30), wait=wait_fixed(0.5), reraise=True,
            retry=retry_if_exception_type(UNREACHABLE))(CLIENTS[spec.options_as(TxnOptions).client])
        return connect(spec, deployment.bootstrap_servers, process)

    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
        """The topic, then (with transactions) the coordinators' own topic, before any fault can race its making."""
        made = super().setup(spec, deployment)
        if not spec.options_as(TxnOptions).txn:
            return made
        partitions = prepare_coordinators(spec.options_as(TxnOptions), deployment.bootstrap_servers)
        return f"{made}; {TRANSACTION_STATE}: {partitions} partitions, each with a leader"

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        """Every worker polls every partition up to the highest offset a committed send was given."""
        targets = committed_targets(history)
        return FinalPhase(f"final polls up to committed offsets {targets}",
                          final_polls(spec.options_as(TxnOptions).partitions, targets))

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        """Runs stored before the txn workload had a choice of client ran kafka-python's."""
        return check_txn({"client": "kafka-python", **test}, history, out_dir)
