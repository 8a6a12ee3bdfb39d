"""The topics this broker holds: partition directories in Kafka's layout, and each topic's configs.

Partitions live in `<log.dir>/<topic>-<partition>/` exactly as in Kafka, so the
directory listing is the source of truth at startup. Topic-level configs are
kept as properties files beside them, because Kafka keeps them in ZooKeeper,
which a single broker does not have.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Mapping

from cluster import properties
from cluster.durable_file import write_atomically
from cluster.broker.config import BrokerConfig
from cluster.broker.log.partition_log import Clock, PartitionLog, wall_clock_ms
from cluster.broker.partition import Partition
from cluster.broker.protocol.errors import ErrorCode

CONFIGS_DIRECTORY = "topic-configs"
_VALID_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")
_PARTITION_DIRECTORY = re.compile(r"(?P<topic>.+)-(?P<index>\d+)")
_DELETED_SUFFIX = "-delete"
_TOPIC_LOG_CONFIGS = frozenset(
    {"segment.bytes", "segment.ms", "retention.ms", "retention.bytes", "index.interval.bytes", "max.message.bytes",
     "flush.messages", "flush.ms"}
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
    partitions: list[Partition]
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


class TopicRegistry:
    def __init__(self, config: BrokerConfig, clock: Clock = wall_clock_ms) -> None:
        self._config = config
        self._clock = clock
        self._directory = config.log_dir
        self._topics: dict[str, Topic] = {}

    def load(self) -> None:
        """Opens every partition found on disk and finishes deletions a crash interrupted."""
        self._directory.mkdir(parents=True, exist_ok=True)
        (self._directory / CONFIGS_DIRECTORY).mkdir(exist_ok=True)
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
        if found is None or not 0 <= index < len(found.partitions):
            return None
        return found.partitions[index]

    def topics(self) -> list[Topic]:
        return list(self._topics.values())

    def create(
        self, name: str, num_partitions: int = -1, replication_factor: int = -1,
        configs: Mapping[str, str | None] | None = None, validate_only: bool = False,
    ) -> Topic | None:
        """Creates a topic (-1 means the broker's default); raises TopicError saying why not."""
        validate_name(name)
        if name in self._topics:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {name!r} already exists")
        partitions = self._config.num_partitions if num_partitions == -1 else num_partitions
        if partitions < 1:
            raise TopicError(ErrorCode.INVALID_PARTITIONS, f"number of partitions must be at least 1, got {partitions}")
        replicas = self._config.default_replication_factor if replication_factor == -1 else replication_factor
        if replicas != 1:
            raise TopicError(
                ErrorCode.INVALID_REPLICATION_FACTOR,
                f"replication factor {replicas} is larger than the 1 available broker" if replicas > 1
                else f"replication factor must be at least 1, got {replicas}",
            )
        topic_configs = self._validated_configs(configs or {})
        if validate_only:
            return None
        self._write_configs(name, topic_configs)
        topic = self._open_topic(name, partitions, topic_configs)
        _log.info("created topic %s with %d partition(s) %s", name, partitions, topic_configs or "")
        return topic

    def delete(self, name: str) -> None:
        topic = self._topics.pop(name, None)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} does not exist")
        marker = uuid.uuid4().hex
        for partition in topic.partitions:
            partition.log.close()
            directory = self._directory / partition.name
            doomed = directory.with_name(f"{directory.name}.{marker}{_DELETED_SUFFIX}")
            os.replace(directory, doomed)
            shutil.rmtree(doomed)
        (self._directory / CONFIGS_DIRECTORY / f"{name}.properties").unlink(missing_ok=True)
        _log.info("deleted topic %s", name)

    def close(self) -> None:
        for topic in self._topics.values():
            for partition in topic.partitions:
                partition.log.close()

    def min_insync_replicas(self, topic: Topic) -> int:
        return int(topic.configs.get("min.insync.replicas", self._config.min_insync_replicas))

    def _open_topic(self, name: str, partitions: int, configs: dict[str, str]) -> Topic:
        log_config = self._config.log_config_for({k: v for k, v in configs.items() if k in _TOPIC_LOG_CONFIGS})
        opened = [
            Partition(name, index, PartitionLog.open(self._directory / f"{name}-{index}", log_config, self._clock),
                      self._config.broker_id)
            for index in range(partitions)
        ]
        topic = self._topics[name] = Topic(name, opened, configs)
        return topic

    def _validated_configs(self, configs: Mapping[str, str | None]) -> dict[str, str]:
        given = {key: value for key, value in configs.items() if value is not None}
        unknown = sorted(set(given) - TOPIC_CONFIG_NAMES)
        if unknown:
            raise TopicError(ErrorCode.INVALID_CONFIG, f"unsupported topic config(s): {', '.join(unknown)}")
        if given.get("cleanup.policy", "delete") != "delete":
            raise TopicError(ErrorCode.INVALID_CONFIG, "only cleanup.policy=delete is supported")
        try:
            self._config.log_config_for({k: v for k, v in given.items() if k in _TOPIC_LOG_CONFIGS})
            if "min.insync.replicas" in given and int(given["min.insync.replicas"]) < 1:
                raise ValueError("min.insync.replicas must be at least 1")
            if given.get("unclean.leader.election.enable", "false").lower() not in ("true", "false"):
                raise ValueError("unclean.leader.election.enable must be true or false")
        except ValueError as error:
            raise TopicError(ErrorCode.INVALID_CONFIG, str(error)) from None
        return given

    def _write_configs(self, name: str, configs: dict[str, str]) -> None:
        text = "".join(f"{key}={value}\n" for key, value in sorted(configs.items()))
        write_atomically(self._directory / CONFIGS_DIRECTORY / f"{name}.properties", text.encode("utf-8"))

    def _read_configs(self, name: str) -> dict[str, str]:
        path = self._directory / CONFIGS_DIRECTORY / f"{name}.properties"
        if not path.exists():
            return {}
        return properties.load(path)
