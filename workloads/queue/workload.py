"""The queue workload as the runner sees it: topic setup, one Kafka client per process, sends and polls, final reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkers.queue import check_queue
from nemesis import hits_whole_tiers
from harness.generator import Generator
from harness.history import Event
from harness.seams import Client, Deployment
from harness.spec import SpecError, TestSpec
from harness.workload import FinalPhase, Results, Workload
from workloads.queue.admin import create_topic, high_watermarks
from workloads.queue.client import open_client
from workloads.queue.operations import final_reads, final_targets, main_phase
from workloads.queue.options import KafkaOptions, KafkaTopicOptions

_log = logging.getLogger(__name__)


class KafkaWorkload(Workload):
    """A workload of Kafka clients on one topic: the nemesis hits brokers, the topic is created first."""

    roles = ("broker",)
    options: type[KafkaTopicOptions] = KafkaOptions

    def validate(self, spec: TestSpec) -> None:
        options = spec.options_as(KafkaTopicOptions)
        if spec.brokers < 1:
            raise SpecError(f"the {self.name} workload needs at least 1 broker, not {spec.brokers}")
        if options.replication_factor > spec.brokers:
            raise SpecError(f"replication_factor {options.replication_factor} exceeds brokers {spec.brokers}")

    def variant(self, spec: TestSpec) -> str:
        return f"acks{spec.options_as(KafkaTopicOptions).acks}"

    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
        options = spec.options_as(KafkaTopicOptions)
        create_topic(options, deployment.bootstrap_servers)
        return (f"topic {options.topic}: {options.partitions} partition(s), replication factor "
                f"{options.replication_factor}, min.insync.replicas {options.min_insync}")

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """A minority of fewer than three brokers would be no node at all; the controller needs keepers. With a
        fault of the fault filesystem, a whole tier too: power lost by every broker (or every keeper) at once is
        the case durability claims are about; with a packet fault, a whole tier's traffic from its peers."""
        targets = ("one", "majority", "partition-leader") + (("minority",) if spec.brokers >= 3 else ()) + (
            ("controller",) if spec.keepers else ())
        if hits_whole_tiers(spec.nemesis):
            targets += ("all-brokers", "all-keepers") if spec.keepers else ("all-brokers",)
        return targets

    def nemesis_options(self, spec: TestSpec) -> dict[str, Any]:
        """partition-leader and isolate-leader hunt the leader of the topic's partition 0."""
        return {"topic": spec.options_as(KafkaTopicOptions).topic, "partition": 0}


class QueueWorkload(KafkaWorkload):
    name = "queue"
    summary = "queue: Kafka sends and polls"
    has_final_phase = True
    partition_writes = "send"

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        return open_client(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Deployment, history: list[Event],
                    say: Callable[[str], None]) -> FinalPhase:
        """Every worker reads every partition up to the highest offset known to exist."""
        targets = final_targets(history, self._watermarks(spec, deployment.bootstrap_servers, say))
        partitions = spec.options_as(KafkaTopicOptions).partitions
        return FinalPhase(f"final reads up to offsets {targets}", final_reads(partitions, targets))

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> Results:
        return check_queue(test, history)

    @staticmethod
    def _watermarks(spec: TestSpec, bootstrap: str, say: Callable[[str], None]) -> dict[int, int]:
        """Where each partition ends now; if the cluster cannot say, final reads aim at acknowledged offsets only."""
        try:
            return high_watermarks(spec.options_as(KafkaTopicOptions), bootstrap)
        except Exception as error:
            say(f"could not read high watermarks ({error}); final reads aim at acknowledged offsets")
            _log.exception("reading high watermarks")
            return {}
