"""A broker's state and housekeeping: topics, groups and offsets, producer ids, timers.

Request handlers (cluster/broker/handlers/) read and change this state; the
server (cluster/broker/server.py) owns connections. Everything here runs on
one asyncio loop, so no state needs a lock.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Iterable

from cluster import properties
from cluster.durable_file import write_atomically
from cluster.broker.config import BrokerConfig
from cluster.broker.groups.coordinator import GroupCoordinator, Reply
from cluster.broker.groups.offsets import (
    OFFSETS_TOPIC,
    CommittedOffset,
    OffsetRecordError,
    TopicPartition,
    encode_key,
    encode_value,
    partition_for_group,
)
from cluster.broker.log.partition_log import Clock, wall_clock_ms
from cluster.broker.partition import Partition
from cluster.broker.producer_ids import ProducerIdAllocator
from cluster.broker.protocol.records import Record, build_batch, decode_records
from cluster.broker.topics import TopicRegistry

META_PROPERTIES = "meta.properties"
GROUP_TICK_SECONDS = 0.1

_log = logging.getLogger(__name__)


class Broker:
    def __init__(self, config: BrokerConfig, clock: Clock = wall_clock_ms) -> None:
        self.config = config
        self.clock = clock
        self.topics = TopicRegistry(config, clock)
        self.groups = GroupCoordinator(config.group_config())
        self.cluster_id = ""
        self._producer_ids: ProducerIdAllocator | None = None
        self._data_arrived: asyncio.Future[None] | None = None
        self._housekeeping: list[asyncio.Task[None]] = []

    def load(self) -> None:
        """Opens the logs (recovering them if needed) and rebuilds committed offsets and producer ids."""
        self.cluster_id = self._load_meta_properties()
        self.topics.load()
        self._replay_offsets()
        highest = max((p.producers.highest_producer_id() for t in self.topics.topics() for p in t.partitions), default=-1)
        self._producer_ids = ProducerIdAllocator(self.config.log_dir, at_least=highest + 1)
        _log.info("broker %d loaded %d topic(s) from %s", self.config.broker_id, len(self.topics.topics()),
                  self.config.log_dir)

    def start_housekeeping(self) -> None:
        self._housekeeping = [
            asyncio.create_task(self._run_group_timers(), name="group-timers"),
            asyncio.create_task(self._run_periodically(self._apply_retention, self.config.retention_check_interval_ms),
                                name="retention"),
            asyncio.create_task(self._run_periodically(self._flush_due_logs, 1_000), name="flush"),
        ]

    async def close(self) -> None:
        for task in self._housekeeping:
            task.cancel()
        await asyncio.gather(*self._housekeeping, return_exceptions=True)
        self.topics.close()
        _log.info("broker %d closed its logs", self.config.broker_id)

    def now_ms(self) -> int:
        return self.clock()

    def allocate_producer_id(self) -> int:
        assert self._producer_ids is not None, "load() first"
        return self._producer_ids.allocate()

    def data_appended(self) -> None:
        """Wakes every long-polling fetch; each re-reads and decides whether it has enough."""
        if self._data_arrived is not None and not self._data_arrived.done():
            self._data_arrived.set_result(None)
        self._data_arrived = None

    async def wait_for_data(self, timeout_s: float) -> None:
        if self._data_arrived is None:
            self._data_arrived = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._data_arrived), timeout_s)
        except asyncio.TimeoutError:
            pass

    def deliver(self, replies: Iterable[Reply]) -> None:
        """Group replies carry the waiting request's future as their token."""
        for future, response in replies:
            assert isinstance(future, asyncio.Future)
            if not future.done():
                future.set_result(response)

    def offsets_partition(self, group_id: str) -> Partition:
        """The __consumer_offsets partition that stores this group's commits, created on first use."""
        topic = self.topics.get(OFFSETS_TOPIC) or self._create_offsets_topic()
        return topic.partitions[partition_for_group(group_id, len(topic.partitions))]

    def commit_offsets(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        """Writes commits to __consumer_offsets first; only a written commit becomes visible."""
        if not offsets:
            return
        partition = self.offsets_partition(group_id)
        now = self.now_ms()
        records = [
            Record(offset=i, timestamp=now, key=encode_key(group_id, topic, index), value=encode_value(committed))
            for i, ((topic, index), committed) in enumerate(offsets.items())
        ]
        partition.append(build_batch(records))
        self.groups.offsets.commit(group_id, offsets)

    def _create_offsets_topic(self):
        replication = min(self.config.offsets_topic_replication_factor, 1)
        if replication < self.config.offsets_topic_replication_factor:
            _log.info("creating %s with replication factor %d: only one broker is available", OFFSETS_TOPIC, replication)
        topic = self.topics.create(OFFSETS_TOPIC, self.config.offsets_topic_partitions, replication,
                                   {"segment.bytes": str(100 * 1024 * 1024)})
        assert topic is not None
        return topic

    def _replay_offsets(self) -> None:
        topic = self.topics.get(OFFSETS_TOPIC)
        if topic is None:
            return
        for partition in topic.partitions:
            for batch, header in partition.batches():
                for record in decode_records(batch):
                    try:
                        self.groups.offsets.replay(record.key, record.value)
                    except OffsetRecordError as error:
                        _log.warning("%s offset %d: skipped unreadable commit: %s", partition.name, record.offset, error)

    def _load_meta_properties(self) -> str:
        """Kafka's meta.properties: the cluster id and broker id this log directory belongs to."""
        directory = self.config.log_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / META_PROPERTIES
        if path.exists():
            meta = properties.load(path)
            stored_id = meta.get("broker.id")
            if stored_id is not None and stored_id != str(self.config.broker_id):
                raise ValueError(
                    f"{path} belongs to broker.id={stored_id}, but this broker is broker.id={self.config.broker_id}"
                )
            if meta.get("cluster.id"):
                return meta["cluster.id"]
        cluster_id = uuid.uuid4().hex[:22]
        write_atomically(path, f"version=0\nbroker.id={self.config.broker_id}\ncluster.id={cluster_id}\n".encode())
        return cluster_id

    async def _run_group_timers(self) -> None:
        while True:
            now = self.now_ms()
            deadline = self.groups.next_deadline_ms()
            wait = GROUP_TICK_SECONDS if deadline is None else min(max(deadline - now, 0) / 1000, GROUP_TICK_SECONDS)
            await asyncio.sleep(wait)
            self.deliver(self.groups.tick(self.now_ms()))

    async def _run_periodically(self, action: Any, interval_ms: int) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                action()
            except Exception:
                _log.exception("housekeeping step %s failed; it will run again", action.__name__)

    def _apply_retention(self) -> None:
        for topic in self.topics.topics():
            for partition in topic.partitions:
                for deleted in partition.log.apply_retention():
                    _log.info("%s: retention deleted %s", partition.name, deleted)

    def _flush_due_logs(self) -> None:
        for topic in self.topics.topics():
            for partition in topic.partitions:
                partition.log.maybe_flush()

