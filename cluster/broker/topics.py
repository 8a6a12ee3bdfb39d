"""The partitions this broker holds: directories in Kafka's layout, and each topic's configs.

Partitions live in `<log.dir>/<topic>-<partition>/` exactly as in Kafka. A broker alone
creates and deletes whole topics itself, the directory listing is its source of truth at
startup, and topic-level configs are kept as properties files beside them. A cluster member
holds only the partitions it replicates: it opens and drops them as the controller's states
say (Broker.on_partition_state), and the topics and their configs live in the keeper.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from cluster import durable_file, properties
from cluster.broker.config import BrokerConfig
from cluster.broker.log.clock import Clock
from cluster.broker.log.errors import StorageError
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.log_dir_failure import LogDirFailure
from cluster.broker.partition import Partition
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import ReplicationConfig

CONFIGS_DIRECTORY = "topic-configs"
_VALID_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")
_PARTITION_DIRECTORY = re.compile(r"(?P<topic>.+)-(?P<index>\d+)")
_DELETED_SUFFIX = "-delete"
_TOPIC_LOG_CONFIGS = frozenset(
    {"segment.bytes", "segment.ms", "retention.ms", "retention.bytes", "index.interval.bytes", "max.message.bytes",
     "flush.messages", "flush.ms", "message.timestamp.type"}
)
TOPIC_CONFIG_NAMES = _TOPIC_LOG_CONFIGS | {"min.insync.replicas", "cleanup.policy", "unclean.leader.election.enable"}

_log = logging.getLogger(__name__)


class TopicError(Exception):
    """A topic request refused with a Kafka error code and a message for the client."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Topic:
    name: str
    partitions: dict[int, Partition]
    """By partition index: every one for a broker alone, the replicated ones for a cluster member."""
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.name.startswith("__")


def validate_name(name: str) -> None:
    if not _VALID_NAME.fullmatch(name) or name in (".", ".."):
        raise TopicError(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f"topic name {name[:60]!r} is invalid: use 1-249 of [a-zA-Z0-9._-], not '.' or '..'",
        )


def topic_shape(config: BrokerConfig, num_partitions: int, replication_factor: int,
                live_brokers: int) -> tuple[int, int]:
    """(partitions, replication factor), -1 meaning the broker's default; TopicError when either cannot be."""
    partitions = config.num_partitions if num_partitions == -1 else num_partitions
    if partitions < 1:
        raise TopicError(ErrorCode.INVALID_PARTITIONS, f"number of partitions must be at least 1, got {partitions}")
    replicas = config.default_replication_factor if replication_factor == -1 else replication_factor
    if replicas < 1:
        raise TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, f"replication factor must be at least 1, got {replicas}")
    if replicas > live_brokers:
        raise TopicError(ErrorCode.INVALID_REPLICATION_FACTOR,
                         f"replication factor {replicas} is larger than the {live_brokers} live broker(s)")
    return partitions, replicas


def validated_configs(config: BrokerConfig, configs: Mapping[str, str | None]) -> dict[str, str]:
    """A topic's configs as given (None values dropped), or TopicError(INVALID_CONFIG) saying what is wrong."""
    given = {key: value for key, value in configs.items() if value is not None}
    unknown = sorted(set(given) - TOPIC_CONFIG_NAMES)
    if unknown:
        raise TopicError(ErrorCode.INVALID_CONFIG, f"unsupported topic config(s): {', '.join(unknown)}")
    if given.get("cleanup.policy", "delete") != "delete":
        raise TopicError(ErrorCode.INVALID_CONFIG, "only cleanup.policy=delete is supported")
    try:
        config.log_config_for({k: v for k, v in given.items() if k in _TOPIC_LOG_CONFIGS})
        if "min.insync.replicas" in given and int(given["min.insync.replicas"]) < 1:
            raise ValueError("min.insync.replicas must be at least 1")
        if given.get("unclean.leader.election.enable", "false").lower() not in ("true", "false"):
            raise ValueError("unclean.leader.election.enable must be true or false")
    except ValueError as error:
        raise TopicError(ErrorCode.INVALID_CONFIG, str(error)) from None
    return given


class TopicRegistry:
    """Every change to the log dir's names is made durable (its directory fsynced), and goes through
    `failure`: a full disk refuses it, any other I/O error halts the broker."""

    def __init__(self, config: BrokerConfig, clock: Clock, failure: LogDirFailure) -> None:
        self._config = config
        self._clock = clock
        self._failure = failure
        self._directory = config.log_dir
        self._topics: dict[str, Topic] = {}

    def load(self) -> None:
        """Opens every partition found on disk and finishes deletions a crash interrupted."""
        with self._failure.guarding("creating the log dir", self._directory):
            durable_file.make_directory(self._directory / CONFIGS_DIRECTORY)
        found: dict[str, list[int]] = {}
        for entry in sorted(self._directory.iterdir()):
            if entry.is_dir() and entry.name.endswith(_DELETED_SUFFIX):
                shutil.rmtree(entry, ignore_errors=True)
                continue
            match = _PARTITION_DIRECTORY.fullmatch(entry.name)
            if entry.is_dir() and match:
                found.setdefault(match["topic"], []).append(int(match["index"]))
        for name, indexes in sorted(found.items()):
            self._open_topic(name, max(indexes) + 1, self._read_configs(name))

    def get(self, name: str) -> Topic | None:
        return self._topics.get(name)

    def partition(self, topic: str, index: int) -> Partition | None:
        found = self._topics.get(topic)
        return found.partitions.get(index) if found is not None else None

    def topics(self) -> list[Topic]:
        return list(self._topics.values())

    def partitions(self) -> list[Partition]:
        return [partition for topic in self._topics.values() for partition in topic.partitions.values()]

    def create(
        self, name: str, num_partitions: int = -1, replication_factor: int = -1,
        configs: Mapping[str, str | None] | None = None, validate_only: bool = False,
    ) -> Topic | None:
        """Creates a topic (-1 means the broker's default); raises TopicError saying why not."""
        validate_name(name)
        if name in self._topics:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {name!r} already exists")
        partitions, _ = topic_shape(self._config, num_partitions, replication_factor, live_brokers=1)
        topic_configs = validated_configs(self._config, configs or {})
        if validate_only:
            return None
        try:
            self._write_configs(name, topic_configs)
            topic = self._open_topic(name, partitions, topic_configs)
        except StorageError as error:
            self._undo_create(name, partitions)
            raise TopicError(ErrorCode.KAFKA_STORAGE_ERROR, f"topic {name!r} was not created: {error}") from None
        _log.info("created topic %s with %d partition(s) %s", name, partitions, topic_configs or "")
        return topic

    def _undo_create(self, name: str, partitions: int) -> None:
        """A full disk stopped a creation midway: what it made goes, or the next start would load half a topic."""
        topic = self._topics.pop(name, None)
        for partition in topic.partitions.values() if topic is not None else ():
            partition.log.close()
        for index in range(partitions):
            if (self._directory / f"{name}-{index}").exists():
                self._remove_directory(self._directory / f"{name}-{index}")
        self._delete_configs(name)

    def delete(self, name: str) -> None:
        topic = self._topics.pop(name, None)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} does not exist")
        for partition in topic.partitions.values():
            partition.log.close()
            self._remove_directory(self._directory / partition.name)
        self._delete_configs(name)
        _log.info("deleted topic %s", name)

    def open_partition(self, topic: str, index: int, configs: Mapping[str, str]) -> Partition:
        """A cluster member's replica of topic-index: the one already open, or opened (created if new)."""
        found = self._topics.get(topic)
        if found is None:
            found = self._topics[topic] = Topic(topic, {}, dict(configs))
        partition = found.partitions.get(index)
        if partition is None:
            partition = found.partitions[index] = self._open_partition(topic, index, found.configs)
        return partition

    def drop_partition(self, topic: str, index: int) -> None:
        """Closes and deletes a replica this broker no longer holds (topic deleted, or replica moved)."""
        found = self._topics.get(topic)
        partition = found.partitions.pop(index, None) if found is not None else None
        if partition is None:
            return
        if not found.partitions:
            del self._topics[topic]
        partition.log.close()
        self._remove_directory(self._directory / partition.name)
        _log.info("deleted replica %s", partition.name)

    def remove_unassigned(self, assigned: set[tuple[str, int]]) -> None:
        """At a cluster member's start: deletes replicas left on disk that the cluster no longer gives it."""
        for entry in sorted(self._directory.iterdir()):
            match = _PARTITION_DIRECTORY.fullmatch(entry.name)
            if entry.is_dir() and match and (match["topic"], int(match["index"])) not in assigned:
                _log.info("deleting %s: this broker no longer replicates it", entry.name)
                self._remove_directory(entry)

    def close(self) -> None:
        for partition in self.partitions():
            partition.close()

    def _open_topic(self, name: str, partitions: int, configs: dict[str, str]) -> Topic:
        topic = self._topics[name] = Topic(name, {}, configs)
        for index in range(partitions):
            topic.partitions[index] = self._open_partition(name, index, configs)
        return topic

    def _open_partition(self, topic: str, index: int, configs: Mapping[str, str]) -> Partition:
        log_config = self._config.log_config_for({k: v for k, v in configs.items() if k in _TOPIC_LOG_CONFIGS})
        log = PartitionLog.open(self._directory / f"{topic}-{index}", log_config, self._clock, on_failure=self._failure)
        return Partition(topic, index, log, self._config.broker_id, _replication_config(self._config, configs))

    def _remove_directory(self, directory: Path) -> None:
        """Renamed away durably first (as Kafka's asyncDelete), so a crash or power loss midway
        cannot bring back half a partition; a leftover is removed at the next load."""
        doomed = directory.with_name(f"{directory.name}.{uuid.uuid4().hex}{_DELETED_SUFFIX}")
        with self._failure.guarding(f"deleting {directory.name}", directory):
            os.replace(directory, doomed)
            durable_file.fsync_directory(self._directory)
        shutil.rmtree(doomed, ignore_errors=True)

    def _write_configs(self, name: str, configs: dict[str, str]) -> None:
        text = "".join(f"{key}={value}\n" for key, value in sorted(configs.items()))
        path = self._directory / CONFIGS_DIRECTORY / f"{name}.properties"
        with self._failure.guarding(f"writing the configs of topic {name}", path.parent):
            durable_file.write_atomically(path, text.encode("utf-8"))

    def _delete_configs(self, name: str) -> None:
        with self._failure.guarding(f"deleting the configs of topic {name}", self._directory / CONFIGS_DIRECTORY):
            (self._directory / CONFIGS_DIRECTORY / f"{name}.properties").unlink(missing_ok=True)
            durable_file.fsync_directory(self._directory / CONFIGS_DIRECTORY)

    def _read_configs(self, name: str) -> dict[str, str]:
        path = self._directory / CONFIGS_DIRECTORY / f"{name}.properties"
        if not path.exists():
            return {}
        return properties.load(path)


def _replication_config(config: BrokerConfig, topic_configs: Mapping[str, str]) -> ReplicationConfig:
    """A partition's replication settings: the broker's, with the topic's min.insync.replicas."""
    return ReplicationConfig(
        min_insync_replicas=int(topic_configs.get("min.insync.replicas", config.min_insync_replicas)),
        replica_lag_time_max_ms=config.replica_lag_time_max_ms,
        replica_fetch_wait_max_ms=0,  # the wait happens at the leader: our fetches long-poll there
        replica_fetch_backoff_ms=config.replica_fetch_backoff_ms,
        replica_socket_timeout_ms=config.replica_socket_timeout_ms,
    )
