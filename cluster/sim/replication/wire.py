"""Messages between the simulated brokers, the keeper and the producers.

Replica-to-replica messages wrap the core's own requests and responses with the partition and
the connection they travel on: a reply goes back over its request's connection, and a restarted
broker has new connections, so it never receives replies meant for its previous life.
The keeper's pushes and answers carry the broker epoch (the registration they belong to, as
KIP-380's LeaderAndIsr does), so a restarted broker ignores what was meant for its previous life.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    AlterIsr,
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchRequest,
    FetchResponse,
)


@dataclass(frozen=True, slots=True)
class Register:
    pass


@dataclass(frozen=True, slots=True)
class Registered:
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class RegisterRefused:
    """The broker's previous session is still alive: it must expire first, as in ZooKeeper."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class SessionExpired:
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class StatePush:
    broker_epoch: int
    partition: int
    state: PartitionState
    replicas: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AlterIsrRequest:
    partition: int
    change: AlterIsr


@dataclass(frozen=True, slots=True)
class AlterIsrReply:
    partition: int
    change: AlterIsr
    state: PartitionState


@dataclass(frozen=True, slots=True)
class PeerFetch:
    connection: int
    partition: int
    request: FetchRequest


@dataclass(frozen=True, slots=True)
class PeerFetchReply:
    connection: int
    partition: int
    response: FetchResponse


@dataclass(frozen=True, slots=True)
class PeerEpochQuery:
    connection: int
    partition: int
    request: EpochEndOffsetRequest


@dataclass(frozen=True, slots=True)
class PeerEpochReply:
    connection: int
    partition: int
    response: EpochEndOffsetResponse


@dataclass(frozen=True, slots=True)
class Produce:
    partition: int
    request: int
    value: int
    acks: int
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class ProduceReply:
    request: int
    error: ErrorCode
    offset: int
