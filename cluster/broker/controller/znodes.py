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
from cluster.broker.endpoints import PLAINTEXT, Endpoint, normalised
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
    """/brokers/ids/<id>: where clients and other brokers reach a broker (Kafka's version 5 layout).

    One endpoint per advertised listener: a client is told the endpoints of the listener its
    connection came in on, a replica fetcher dials the leader's inter-broker listener.
    """

    broker_id: int
    endpoints: tuple[Endpoint, ...]

    @classmethod
    def plaintext(cls, broker_id: int, host: str, port: int) -> BrokerRegistration:
        """A broker with one listener named PLAINTEXT, Kafka's default."""
        return cls(broker_id, (Endpoint(PLAINTEXT, host, port),))

    def endpoint(self, listener: str) -> Endpoint | None:
        return next((endpoint for endpoint in self.endpoints if endpoint.listener == listener), None)

    def describe(self) -> str:
        return ",".join(map(str, self.endpoints))

    def to_json(self, timestamp_ms: int) -> bytes:
        """Kafka's host and port (for clients older than listeners) are the first PLAINTEXT endpoint's, as
        Kafka's; every endpoint this broker registers is PLAINTEXT."""
        first = self.endpoints[0]
        return dump({
            "listener_security_protocol_map": {endpoint.listener: PLAINTEXT for endpoint in self.endpoints},
            "endpoints": [str(endpoint) for endpoint in self.endpoints],
            "jmx_port": -1,
            "features": {},
            "host": first.host,
            "timestamp": str(timestamp_ms),
            "port": first.port,
            "version": 5,
        })

    @classmethod
    def from_json(cls, broker_id: int, data: bytes) -> BrokerRegistration:
        """The endpoints whose security protocol is PLAINTEXT, the only one this broker speaks (host/port are
        legacy). Before version 4 there is no protocol map: a listener was named after its protocol."""
        registration = load(data)
        endpoints, protocols = registration.get("endpoints"), registration.get("listener_security_protocol_map", {})
        if not isinstance(endpoints, list) or not isinstance(protocols, dict):
            raise ZnodeError(f"broker {broker_id} registration has no endpoints list")
        protocols = {normalised(str(name)): protocol for name, protocol in protocols.items()}
        plaintext = []
        for text in endpoints:
            try:
                endpoint = Endpoint.parse(str(text))
            except ValueError as error:
                raise ZnodeError(f"broker {broker_id} registration: {error}") from None
            if protocols.get(endpoint.listener, endpoint.listener) == PLAINTEXT:
                plaintext.append(endpoint)
        if not plaintext:
            raise ZnodeError(f"broker {broker_id} registration has no PLAINTEXT endpoint: {endpoints!r}")
        return cls(broker_id, tuple(plaintext))


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

