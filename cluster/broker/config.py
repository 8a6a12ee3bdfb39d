"""Broker settings under Kafka's property names and defaults.

A user points `logquake broker --config` at a server.properties written for
Kafka. Properties this broker implements are read with Kafka's meaning; log.*
settings are handed to LogConfig, the listener settings to Listeners; a property we do not implement is refused
by name rather than ignored, so nobody believes a setting is in force when it
is not.

This module reads properties and knows none of the broker's cores but the log,
whose LogConfig reads the log.* properties (and a topic's overrides of them)
itself. The part that builds a core hands it its own settings from these: the
topic registry a partition's replication settings, membership the controller's,
the broker its group coordinator's; so the sans-IO cores, which the simulator
builds without a broker, never depend on the broker's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from cluster import config_values
from cluster.broker.listeners import PROPERTY_NAMES as LISTENER_PROPERTY_NAMES
from cluster.broker.listeners import Listeners
from cluster.broker.log.config import PROPERTY_NAMES as LOG_PROPERTY_NAMES
from cluster.broker.log.config import LogConfig
from cluster.broker.protocol.framing import DEFAULT_MAX_FRAME_SIZE


def _log_dir(name: str, value: object) -> Path:
    directories = config_values.comma_list(name, value)
    if len(directories) != 1:
        raise ValueError(f"property {name}: exactly one log directory is supported, got {len(directories)}")
    return Path(directories[0])


def _optional_text(name: str, value: object) -> str | None:
    return config_values.text(name, value) or None


# property -> (field, parser); later entries win when both are given (log.dirs over log.dir).
_PROPERTIES: dict[str, tuple[str, Callable[[str, object], Any]]] = {
    "broker.id": ("broker_id", config_values.integer),
    "log.dir": ("log_dir", _log_dir),
    "log.dirs": ("log_dir", _log_dir),
    "num.partitions": ("num_partitions", config_values.integer),
    "default.replication.factor": ("default_replication_factor", config_values.integer),
    "min.insync.replicas": ("min_insync_replicas", config_values.integer),
    "auto.create.topics.enable": ("auto_create_topics", config_values.boolean),
    "delete.topic.enable": ("delete_topic_enable", config_values.boolean),
    "offsets.topic.num.partitions": ("offsets_topic_partitions", config_values.integer),
    "offsets.topic.replication.factor": ("offsets_topic_replication_factor", config_values.integer),
    "transaction.state.log.num.partitions": ("transaction_state_partitions", config_values.integer),
    "transaction.state.log.replication.factor": ("transaction_state_replication_factor", config_values.integer),
    "transaction.state.log.min.isr": ("transaction_state_min_isr", config_values.integer),
    "transaction.max.timeout.ms": ("transaction_max_timeout_ms", config_values.integer),
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": ("transaction_abort_interval_ms",
                                                                    config_values.integer),
    "group.initial.rebalance.delay.ms": ("group_initial_rebalance_delay_ms", config_values.integer),
    "group.min.session.timeout.ms": ("group_min_session_timeout_ms", config_values.integer),
    "group.max.session.timeout.ms": ("group_max_session_timeout_ms", config_values.integer),
    "socket.request.max.bytes": ("socket_request_max_bytes", config_values.integer),
    "log.retention.check.interval.ms": ("retention_check_interval_ms", config_values.integer),
    "zookeeper.connect": ("zookeeper_connect", _optional_text),
    "zookeeper.session.timeout.ms": ("zookeeper_session_timeout_ms", config_values.integer),
    "replica.lag.time.max.ms": ("replica_lag_time_max_ms", config_values.integer),
    "replica.fetch.wait.max.ms": ("replica_fetch_wait_max_ms", config_values.integer),
    "replica.fetch.backoff.ms": ("replica_fetch_backoff_ms", config_values.integer),
    "replica.socket.timeout.ms": ("replica_socket_timeout_ms", config_values.integer),
    "replica.fetch.max.bytes": ("replica_fetch_max_bytes", config_values.integer),
    "replica.fetch.response.max.bytes": ("replica_fetch_response_max_bytes", config_values.integer),
    "offsets.commit.timeout.ms": ("offsets_commit_timeout_ms", config_values.integer),
    "controlled.shutdown.timeout.ms": ("controlled_shutdown_timeout_ms", config_values.integer),
    "unclean.leader.election.enable": ("unclean_leader_election", config_values.boolean),
}

_POSITIVE = ("num_partitions", "default_replication_factor", "min_insync_replicas", "offsets_topic_partitions",
             "offsets_topic_replication_factor", "socket_request_max_bytes", "retention_check_interval_ms",
             "zookeeper_session_timeout_ms", "replica_fetch_max_bytes", "replica_fetch_response_max_bytes",
             "replica_socket_timeout_ms", "offsets_commit_timeout_ms", "transaction_state_partitions",
             "transaction_state_replication_factor", "transaction_state_min_isr", "transaction_max_timeout_ms",
             "transaction_abort_interval_ms")
MAX_BROKER_ID = 1023
"""Cluster members' producer ids interleave by broker id (see Broker.allocate_producer_id)."""


@dataclass(frozen=True)
class BrokerConfig:
    broker_id: int = 0
    listeners: Listeners = field(default_factory=Listeners)
    log_dir: Path = Path("data")
    num_partitions: int = 1
    default_replication_factor: int = 1
    min_insync_replicas: int = 1
    auto_create_topics: bool = True
    delete_topic_enable: bool = True
    offsets_topic_partitions: int = 50
    offsets_topic_replication_factor: int = 3
    transaction_state_partitions: int = 50
    transaction_state_replication_factor: int = 3
    transaction_state_min_isr: int = 2
    transaction_max_timeout_ms: int = 900_000
    transaction_abort_interval_ms: int = 10_000
    """How often the coordinator looks for transactions past their timeout, to abort them."""
    group_initial_rebalance_delay_ms: int = 3_000
    group_min_session_timeout_ms: int = 6_000
    group_max_session_timeout_ms: int = 1_800_000
    socket_request_max_bytes: int = DEFAULT_MAX_FRAME_SIZE
    retention_check_interval_ms: int = 300_000
    zookeeper_connect: str | None = None
    zookeeper_session_timeout_ms: int = 18_000
    replica_lag_time_max_ms: int = 30_000
    replica_fetch_wait_max_ms: int = 500
    replica_fetch_backoff_ms: int = 1_000
    replica_socket_timeout_ms: int = 30_000
    replica_fetch_max_bytes: int = 1_048_576
    replica_fetch_response_max_bytes: int = 10_485_760
    offsets_commit_timeout_ms: int = 5_000
    controlled_shutdown_timeout_ms: int = 30_000
    """Ours (Kafka retries controlled shutdown instead): how long SIGTERM waits for leaderships to move."""
    unclean_leader_election: bool = False
    log: LogConfig = field(default_factory=LogConfig)
    log_properties: Mapping[str, str] = field(default_factory=dict)
    """The log.* properties as given, the base that topic-level configs override."""

    def __post_init__(self) -> None:
        if not 0 <= self.broker_id <= MAX_BROKER_ID:
            raise ValueError(f"broker.id must be between 0 and {MAX_BROKER_ID}, got {self.broker_id}")
        if self.replica_socket_timeout_ms <= self.replica_fetch_wait_max_ms:
            raise ValueError("replica.socket.timeout.ms must be larger than replica.fetch.wait.max.ms")
        for name in _POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{_property_of(name)} must be positive, got {getattr(self, name)}")

    @classmethod
    def from_properties(cls, properties: Mapping[str, object]) -> BrokerConfig:
        unknown = sorted(set(properties) - set(_PROPERTIES) - LOG_PROPERTY_NAMES - LISTENER_PROPERTY_NAMES)
        if unknown:
            raise ValueError(f"unsupported broker propert{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, (field_name, parse) in _PROPERTIES.items():
            if name in properties:
                values[field_name] = parse(name, properties[name])
        log_properties = {k: str(v) for k, v in properties.items() if k in LOG_PROPERTY_NAMES}
        return cls(**values, listeners=Listeners.from_properties(properties),
                   log=LogConfig.from_properties(log_properties), log_properties=log_properties)

    def log_config_for(self, topic_configs: Mapping[str, str]) -> LogConfig:
        """The broker's log.* settings overridden by a topic's own configs, as in Kafka."""
        return LogConfig.from_properties({**self.log_properties, **topic_configs})

    @property
    def clustered(self) -> bool:
        """zookeeper.connect set: a member of a replicated cluster; otherwise a broker alone."""
        return self.zookeeper_connect is not None


def _property_of(field_name: str) -> str:
    return next(name for name, (f, _) in _PROPERTIES.items() if f == field_name)
