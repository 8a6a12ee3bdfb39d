"""The queue workload as the runner sees it: topic setup, one Kafka client per process, sends and polls, final reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from logquake.generator import Generator
from logquake.spec import TestSpec
from workloads.queue.admin import create_topic, high_watermarks
from workloads.queue.client import open_client
from workloads.queue.operations import final_reads, final_targets, main_phase
from workloads.workload import Client, FinalPhase, Workload

_log = logging.getLogger(__name__)


class BrokerWorkload(Workload):
    """A workload of Kafka clients on one topic: the nemesis hits brokers, the topic is created first."""

    roles = ("broker",)

    def setup(self, spec: TestSpec, deployment: Any) -> str:
        create_topic(spec, deployment.bootstrap_servers)
        return (f"topic {spec.topic}: {spec.partitions} partition(s), replication factor {spec.replication_factor}, "
                f"min.insync.replicas {spec.min_insync}")

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        """A minority of fewer than three brokers would be no node at all; the controller needs keepers."""
        return ("one", "majority", "partition-leader") + (("minority",) if spec.brokers >= 3 else ()) + (
            ("controller",) if spec.keepers else ())


class QueueWorkload(BrokerWorkload):
    name = "queue"
    has_final_phase = True

    def open_client(self, spec: TestSpec, deployment: Any, process: int) -> Client:
        return open_client(spec, deployment.bootstrap_servers, process)

    def generator(self, spec: TestSpec) -> Generator:
        return main_phase(spec)

    def final_phase(self, spec: TestSpec, deployment: Any, history: list[dict[str, Any]],
                    say: Callable[[str], None]) -> FinalPhase:
        """Every worker reads every partition up to the highest offset known to exist."""
        targets = final_targets(history, self._watermarks(spec, deployment.bootstrap_servers, say))
        return FinalPhase(f"final reads up to offsets {targets}", final_reads(spec.partitions, targets))

    @staticmethod
    def _watermarks(spec: TestSpec, bootstrap: str, say: Callable[[str], None]) -> dict[int, int]:
        """Where each partition ends now; if the cluster cannot say, final reads aim at acknowledged offsets only."""
        try:
            return high_watermarks(spec, bootstrap)
        except Exception as error:
            say(f"could not read high watermarks ({error}); final reads aim at acknowledged offsets")
            _log.exception("reading high watermarks")
            return {}
