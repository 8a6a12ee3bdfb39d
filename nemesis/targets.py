"""Which nodes a fault hits: a seeded random share of a pool, or the node holding a role right now.

Shares follow Jepsen: one node, a minority (fewer than half), a majority (more than half), all,
each of the pool the run draws from (its workload's roles); all-brokers and all-keepers are every
node of one role, whatever the pool: a correlated power loss of a whole tier.
Role holders are asked of the live cluster: a partition's leader from Kafka Metadata, the
controller from keeper's /controller znode, the keeper leader from `srvr`.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from cluster.deploy.probes import keeper_mode
from harness.seams import Deployment, Node
from harness.spec import SpecError
from nemesis.base import NemesisError

_log = logging.getLogger(__name__)

SHARES = ("one", "minority", "majority", "all")
ROLE_GROUPS = {"all-brokers": "broker", "all-keepers": "keeper"}
ROLE_HOLDERS = ("partition-leader", "controller", "keeper-leader")
NODE_NAME = re.compile(r"(?P<prefix>[bk])(?P<number>[1-9][0-9]*)")
"""The deployment's node names: brokers b1..bN, keepers k1..kN."""


def is_node_name(target: str) -> bool:
    return NODE_NAME.fullmatch(target) is not None


def names_a_node(target: str, brokers: int, keepers: int) -> bool:
    """Whether target is the name of a node a cluster of that size has."""
    named = NODE_NAME.fullmatch(target)
    return named is not None and int(named["number"]) <= {"b": brokers, "k": keepers}[named["prefix"]]


def node_names(brokers: int, keepers: int) -> str:
    """How an error names a cluster's nodes: "b1..b3, k1..k3" (a tier without nodes left out)."""
    return ", ".join(f"{prefix}1..{prefix}{count}" for prefix, count in (("b", brokers), ("k", keepers)) if count)


def check_node_targets(targets: Sequence[str], brokers: int, keepers: int) -> None:
    """SpecError, before anything is deployed, for a node name the cluster will not have (b4 of three brokers)."""
    missing = [target for target in targets if is_node_name(target) and not names_a_node(target, brokers, keepers)]
    if missing:
        raise SpecError(f"nemesis_targets: {', '.join(missing)} is no node of this cluster "
                        f"({node_names(brokers, keepers) or 'no nodes'})")


def share_size(share: str, pool_size: int) -> int:
    sizes = {"one": 1, "minority": (pool_size - 1) // 2, "majority": pool_size // 2 + 1, "all": pool_size}
    if share not in sizes:
        raise NemesisError(f"unknown target {share!r}: choose one of "
                           f"{', '.join(SHARES + tuple(ROLE_GROUPS) + ROLE_HOLDERS)} or node names")
    return min(sizes[share], pool_size)


def share_of(target: str, nodes: Sequence[Node], roles: Sequence[str]) -> tuple[str, list[Node]]:
    """The share a target names and the pool it is drawn from: all-brokers is all of the brokers."""
    if target in ROLE_GROUPS:
        role = ROLE_GROUPS[target]
        pool = [node for node in nodes if node.role == role]
        if not pool:
            raise NemesisError(f"{target}: this deployment has no {role} nodes")
        return "all", pool
    return target, [node for node in nodes if node.role in roles]


def choose_share(share: str, pool: Sequence[Node], free: Sequence[Node], rng: random.Random) -> list[Node]:
    """share of the whole pool, drawn from its free nodes (those no other fault holds)."""
    size = share_size(share, len(pool))
    if size == 0:
        raise NemesisError(f"a {share} of {len(pool)} node(s) is no node at all")
    if size > len(free):
        raise NemesisError(f"a {share} of {len(pool)} is {size} node(s), but only {len(free)} are free of other faults")
    return sorted(rng.sample(list(free), size), key=lambda node: node.name)


class Locator:
    """Finds role holders in a live deployment; options name the partition ("topic", "partition")."""

    def __init__(self, deployment: Deployment, options: dict[str, Any]) -> None:
        self.deployment = deployment
        self.topic: str | None = options.get("topic")
        self.partition: int = int(options.get("partition", 0))
        self.timeout: float = float(options.get("lookup_timeout", 10))

    def find(self, role: str) -> Node:
        if role == "partition-leader":
            return self.partition_leader()
        if role == "controller":
            return self.controller()
        if role == "keeper-leader":
            return self.keeper_leader()
        raise NemesisError(f"unknown role {role!r}: choose one of {', '.join(ROLE_HOLDERS)}")

    def partition_leader(self) -> Node:
        return self.partition_leader_and_followers()[0]

    def partition_leader_and_followers(self) -> tuple[Node, list[Node]]:
        """The partition's leader and its in-sync followers (the replicas a clean election may choose)."""
        topic = self._topic_metadata("partition-leader")
        partition = topic.partitions.get(self.partition) if topic and not topic.error else None
        if partition is None or partition.leader < 0:
            raise NemesisError(f"{self.topic}-{self.partition} has no leader now")
        name = f"{self.topic}-{self.partition}"
        followers = sorted((self._broker(replica, f"in-sync follower of {name}")
                            for replica in partition.isrs if replica != partition.leader), key=lambda node: node.name)
        return self._broker(partition.leader, f"leader of {name}"), followers

    def partition_leaders(self) -> list[Node]:
        """The leaders of every partition of the topic that has one now, each broker once (Jepsen's primaries)."""
        topic = self._topic_metadata("primaries")
        if topic is None or topic.error:
            raise NemesisError(f"no metadata for {self.topic}: {topic.error if topic else 'no such topic'}")
        ids = {partition.leader for partition in topic.partitions.values() if partition.leader >= 0}
        return sorted((self._broker(broker_id, f"a leader of {self.topic}") for broker_id in ids),
                      key=lambda node: node.name)

    def _topic_metadata(self, wanted_by: str) -> Any:
        """The topic's metadata (confluent_kafka's TopicMetadata), or None when the brokers do not know it."""
        if not self.topic:
            raise NemesisError(f"{wanted_by} needs the option 'topic'")
        # librdkafka's complaints about brokers this very nemesis has stopped go to the harness log, not the terminal.
        admin = AdminClient({"bootstrap.servers": self.deployment.bootstrap_servers, "logger": _log})
        try:
            metadata = admin.list_topics(topic=self.topic, timeout=self.timeout)
        except KafkaException as error:
            raise NemesisError(f"no metadata for {self.topic}: {error}") from None
        return metadata.topics.get(self.topic)

    def controller(self) -> Node:
        if not self.deployment.keepers:
            raise NemesisError("controller: this deployment has no keepers, so no controller")
        client = KazooClient(hosts=self.deployment.keeper_connect, timeout=self.timeout)
        try:
            client.start(timeout=self.timeout)
            data, _ = client.get("/controller")
        except NoNodeError:
            raise NemesisError("controller: keeper has no /controller znode (no broker is controller now)") from None
        except Exception as error:  # kazoo's timeouts and connection errors share no base class
            raise NemesisError(f"controller: cannot read /controller from keeper: {error}") from None
        finally:
            client.stop()
            client.close()
        try:
            broker_id = int(json.loads(data)["brokerid"])
        except (ValueError, KeyError, TypeError):
            raise NemesisError(f"controller: /controller holds {data!r}, not Kafka's {{\"brokerid\": N}}") from None
        return self._broker(broker_id, "controller")

    def keeper_leader(self) -> Node:
        for keeper in self.deployment.keepers:
            if keeper.is_running() and not keeper.is_paused() and keeper_mode(keeper.host, keeper.port) == "leader":
                return keeper
        raise NemesisError("keeper-leader: no keeper answers srvr with 'Mode: leader'")

    def _broker(self, broker_id: int, what: str) -> Node:
        for broker in self.deployment.brokers:
            if broker.node_id == broker_id:
                return broker
        raise NemesisError(f"the {what} is broker {broker_id}, which is not in this deployment")
