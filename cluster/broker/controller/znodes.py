"""Kafka's ZooKeeper layout: the paths the control plane uses and the JSON each znode holds.

Everything here is Kafka's own layout (kafka.zk.ZkData), so Kafka's tools could read a
logquake cluster's keeper, with one addition of ours: /admin/controlled_shutdown/<id>,
an ephemeral a broker creates to ask the controller to move its leaderships away
(Kafka does this with a ControlledShutdown request to the controller instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from cluster.broker.controller.election import Assignment
from cluster.broker.metadata.znode_json import ZnodeError, dump, is_int, load

BROKER_IDS = "/brokers/ids"
TOPICS = "/brokers/topics"
CONTROLLER = "/controller"
CONTROLLER_EPOCH = "/controller_epoch"
TOPIC_CONFIGS = "/config/topics"
DELETE_TOPICS = "/admin/delete_topics"
CONTROLLED_SHUTDOWN = "/admin/controlled_shutdown"
PERSISTENT_PARENTS = (BROKER_IDS, TOPICS, TOPIC_CONFIGS, DELETE_TOPICS, CONTROLLED_SHUTDOWN)
INITIAL_CONTROLLER_EPOCH = 0
"""Kafka's: the first controller writes epoch 1."""


def broker_path(broker_id: int) -> str:
    return f"{BROKER_IDS}/{broker_id}"


def topic_path(topic: str) -> str:
    return f"{TOPICS}/{topic}"


def partitions_path(topic: str) -> str:
    return f"{TOPICS}/{topic}/partitions"


def partition_path(topic: str, partition: int) -> str:
    return f"{TOPICS}/{topic}/partitions/{partition}"


def state_path(topic: str, partition: int) -> str:
    return f"{TOPICS}/{topic}/partitions/{partition}/state"


def topic_config_path(topic: str) -> str:
    return f"{TOPIC_CONFIGS}/{topic}"


def delete_topic_path(topic: str) -> str:
    return f"{DELETE_TOPICS}/{topic}"


def controlled_shutdown_path(broker_id: int) -> str:
    return f"{CONTROLLED_SHUTDOWN}/{broker_id}"


@dataclass(frozen=True)
class BrokerRegistration:
    """/brokers/ids/<id>: where clients and other brokers reach a broker (Kafka's version 5 layout)."""

    broker_id: int
    host: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"PLAINTEXT://{self.host}:{self.port}"

    def to_json(self, timestamp_ms: int) -> bytes:
        return dump({
            "listener_security_protocol_map": {"PLAINTEXT": "PLAINTEXT"},
            "endpoints": [self.endpoint],
            "jmx_port": -1,
            "features": {},
            "host": self.host,
            "timestamp": str(timestamp_ms),
            "port": self.port,
            "version": 5,
        })

    @classmethod
    def from_json(cls, broker_id: int, data: bytes) -> BrokerRegistration:
        """Reads the PLAINTEXT endpoint, which is what Kafka's brokers register too (host/port are legacy)."""
        endpoints = load(data).get("endpoints")
        if not isinstance(endpoints, list):
            raise ZnodeError(f"broker {broker_id} registration has no endpoints list")
        for endpoint in endpoints:
            scheme, _, address = str(endpoint).partition("://")
            host, _, port = address.rpartition(":")
            if scheme == "PLAINTEXT" and port.isdigit():
                return cls(broker_id, host.strip("[]"), int(port))
        raise ZnodeError(f"broker {broker_id} registration has no PLAINTEXT endpoint: {endpoints!r}")


def controller_json(broker_id: int, timestamp_ms: int) -> bytes:
    return dump({"version": 1, "brokerid": broker_id, "timestamp": str(timestamp_ms)})


def controller_id(data: bytes) -> int:
    broker_id = load(data).get("brokerid")
    if not is_int(broker_id):
        raise ZnodeError(f"/controller names no broker: {data!r}")
    return broker_id


def epoch_bytes(epoch: int) -> bytes:
    """/controller_epoch holds the bare number, as Kafka writes it."""
    return str(epoch).encode()


def epoch_from_bytes(data: bytes) -> int:
    try:
        return int(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ZnodeError(f"/controller_epoch is not a number: {data!r}") from None


def assignment_json(assignment: Assignment) -> bytes:
    return dump({
        "version": 2,
        "partitions": {str(partition): list(replicas) for partition, replicas in sorted(assignment.items())},
        "adding_replicas": {},
        "removing_replicas": {},
    })


def assignment_from_json(data: bytes) -> Assignment:
    partitions = load(data).get("partitions")
    if not isinstance(partitions, dict):
        raise ZnodeError("topic assignment has no partitions object")
    assignment: Assignment = {}
    for key, replicas in partitions.items():
        is_partition = key.isascii() and key.isdigit()
        if not is_partition or not isinstance(replicas, list) or not replicas or not all(map(is_int, replicas)):
            raise ZnodeError(f"topic assignment entry {key!r}: {replicas!r} is not a partition and its replicas")
        assignment[int(key)] = tuple(replicas)
    return assignment


def topic_config_json(configs: Mapping[str, str]) -> bytes:
    return dump({"version": 1, "config": dict(configs)})


def topic_config_from_json(data: bytes) -> dict[str, str]:
    configs = load(data).get("config")
    if not isinstance(configs, dict) or not all(isinstance(value, str) for value in configs.values()):
        raise ZnodeError("topic config has no config object of strings")
    return configs

