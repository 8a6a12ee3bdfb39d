"""The AMQP queue workload as the runner sees it: the queue declared, one pika client per process, enqueues and
dequeues, a final drain, Jepsen's total-queue check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkers.total_queue import check_total_queue
from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import SpecError, TestSpec
from harness.workload import FinalPhase, Results, Workload
from nemesis import hits_whole_tiers
from workloads.amqp.client import declare_queue, open_client
from workloads.amqp.operations import drains, main_phase
from workloads.amqp.options import AmqpOptions


class AmqpWorkload(Workload):
    name = "amqp"
    summary = "amqp: RabbitMQ enqueues (confirmed) and dequeues (acknowledged), total-queue check"
    options = AmqpOptions
    roles = ("broker",)
    systems = ("rabbitmq",)
    has_final_phase = True
    partition_writes = "enqueue"
    """Availability is measured on the enqueues, the run's one queue as partition 0."""

    def validate(self, spec: TestSpec) -> None:
        if spec.brokers < 1:
            raise SpecError(f"the {self.name} workload needs at least 1 RabbitMQ node, not {spec.brokers}")

    def variant(self, spec: TestSpec) -> str:
        return spec.options_as(AmqpOptions).queue_type

    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
        options = spec.options_as(AmqpOptions)
        declare_queue(spec, deployment.bootstrap_servers)
        durability = "durable" if options.durable else "transient"
        messages = "persistent" if options.persistent else "transient"
        return (f"{options.queue_type} queue {options.amqp_queue} declared ({durability}), {messages} messages, "
                f"publisher confirms, manual acks")

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        return open_client(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """Shares of the RabbitMQ nodes (no role holders: RabbitMQ has no controller a Kafka client could name)."""
        targets = ("one", "majority") + (("minority",) if spec.brokers >= 3 else ())
        return targets + (("all-brokers",) if hits_whole_tiers(spec.nemesis) else ())

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        return FinalPhase("every worker drains the queue until it answers empty", drains())

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        return check_total_queue(test, history)
