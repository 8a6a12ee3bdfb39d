"""What a broker knows of the cluster: the control plane's znodes, read into one immutable value.

Every broker keeps one (cluster/broker/controller/watcher.py fills it from keeper
watches): the data plane reads leaders and ISRs from it, Metadata answers come from
it, and the controller decides from the one of its own broker. A value rather than a
stream of deltas, so whoever reads it always sees the latest whole picture, and a
decision taken on it can only be stale, never half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from cluster.broker.controller.election import Assignment
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.metadata.partition_state import PartitionState

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class TopicInfo:
    assignment: Assignment
    configs: Mapping[str, str] = field(default_factory=dict)
    """/config/topics/<topic>: Kafka's topic-level overrides (min.insync.replicas, unclean.leader.election.enable)."""


@dataclass(frozen=True)
class ClusterView:
    brokers: Mapping[int, BrokerRegistration] = field(default_factory=dict)
    """The live brokers: those whose ephemeral /brokers/ids/<id> exists."""
    broker_epochs: Mapping[int, int] = field(default_factory=dict)
    """Each registration's czxid, Kafka's broker epoch (KIP-380): a new one means the broker went and came back."""
    topics: Mapping[str, TopicInfo] = field(default_factory=dict)
    states: Mapping[TopicPartition, PartitionState] = field(default_factory=dict)
    """Partitions whose state znode exists; a partition missing here has not been initialised yet."""
    deleting: frozenset[str] = frozenset()
    shutting_down: frozenset[int] = frozenset()
    controller: int | None = None
    controller_epoch: int = 0

    @property
    def live(self) -> frozenset[int]:
        return frozenset(self.brokers)

    def replicas(self, topic: str, partition: int) -> tuple[int, ...]:
        info = self.topics.get(topic)
        return info.assignment.get(partition, ()) if info else ()

    def led_by(self, broker_id: int) -> list[TopicPartition]:
        return sorted(key for key, state in self.states.items() if state.leader == broker_id)
