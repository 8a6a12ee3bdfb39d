"""The Kafka side of the throughput benchmarks: one librdkafka (confluent-kafka) client setup for all of them.

Every throughput benchmark sends the same 100-byte messages to 6-partition topics from one producer
configured as below, so their figures can be set side by side.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from benchmarks._cpu import Usage, measured

MESSAGE_BYTES = 100
PARTITIONS = 6
POLL_EVERY = 1_000

PRODUCER_CONFIG: dict[str, object] = {
    "linger.ms": 5,
    "queue.buffering.max.messages": 20_000,
    "compression.type": "none",
    "enable.idempotence": False,
}
CONSUMER_CONFIG: dict[str, object] = {
    "group.id": "logquake-bench",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "fetch.max.bytes": 50 << 20,
    "max.partition.fetch.bytes": 4 << 20,
    "fetch.wait.max.ms": 100,
    "fetch.queue.backoff.ms": 10,
}
"""fetch.max.bytes is librdkafka's default, stated because it bounds each Fetch. With librdkafka's 1000 ms
fetch.queue.backoff.ms the consumer stops fetching for a second each time its prefetch queue passes
queued.min.messages, so a reader of a long backlog mostly waits; raising the queue limits instead
(500,000 messages a partition) also avoided the stalls but cost more client CPU per message."""


def describe(config: dict[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in config.items())


def create_topics(bootstrap: str, names: list[str], replication: int = 1,
                  config: dict[str, str] | None = None) -> None:
    # log_level 4: librdkafka otherwise reports, at info level, the CreateTopics events left unread on close.
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 4})
    futures = admin.create_topics([NewTopic(name, PARTITIONS, replication, config=config or {}) for name in names],
                                  operation_timeout=30)
    for future in futures.values():
        future.result(timeout=60)
    _wait_led(admin, names, replication)


def _wait_led(admin: AdminClient, names: list[str], replication: int, timeout: float = 60) -> None:
    """Until Metadata shows every partition led and fully in sync: otherwise the first messages of a phase wait
    for librdkafka's metadata refresh, and the phase measures that wait."""
    deadline = time.monotonic() + timeout
    while True:
        topics = admin.list_topics(timeout=10).topics
        partitions = [p for name in names if name in topics for p in topics[name].partitions.values()]
        if len(partitions) == PARTITIONS * len(names) and all(p.leader >= 0 and len(p.isrs) == replication
                                                              for p in partitions):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{names}: not every partition led with {replication} in-sync replicas after {timeout:g}s")
        time.sleep(0.2)


class _Deliveries:
    """The delivery-report callback. Message.latency() is librdkafka's own clock from produce() to the moment
    the report reaches this callback (it matched perf_counter stamps taken around produce() and here within
    microseconds), so the latency costs no per-message bookkeeping in Python."""

    __slots__ = ("latencies", "errors")

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def __call__(self, error: Any, message: Any) -> None:
        if error is None:
            self.latencies.append(message.latency())
        else:
            self.errors.append(str(error))

    def checked(self, count: int) -> list[float]:
        """The sorted latencies, once every one of `count` messages was delivered."""
        if self.errors:
            raise RuntimeError(f"{len(self.errors):,} failed deliveries, the first: {self.errors[0]}")
        if len(self.latencies) != count:
            raise RuntimeError(f"{len(self.latencies):,} delivery reports for {count:,} messages")
        return sorted(self.latencies)


def produce_measured(bootstrap: str, servers: list[psutil.Process], topic: str, acks: str,
                     count: int) -> tuple[Usage, list[float]]:
    """Produce `count` messages from a fresh producer: the CPU it cost and each message's latency, sorted."""
    deliveries = _Deliveries()
    producer = Producer({"bootstrap.servers": bootstrap, "acks": acks, "on_delivery": deliveries, **PRODUCER_CONFIG})
    _, usage = measured(servers, lambda: _produce(producer, topic, count))
    return usage, deliveries.checked(count)


def _produce(producer: Producer, topic: str, count: int) -> None:
    value = os.urandom(MESSAGE_BYTES)
    produce, poll = producer.produce, producer.poll
    for start in range(0, count, POLL_EVERY):
        for _ in range(min(POLL_EVERY, count - start)):
            while True:
                try:
                    produce(topic, value)
                    break
                except BufferError:
                    poll(0.001)
        poll(0)
    if producer.flush(60):
        raise RuntimeError(f"{topic}: deliveries still outstanding after 60 s")


def check_stored(bootstrap: str, topic: str, count: int) -> None:
    """The broker must hold exactly what was acknowledged: a rate over lost or duplicated messages means nothing."""
    consumer = Consumer({"bootstrap.servers": bootstrap, **CONSUMER_CONFIG})
    try:
        stored = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(PARTITIONS))
    finally:
        consumer.close()
    if stored != count:
        raise RuntimeError(f"{topic}: {stored:,} messages stored, {count:,} acknowledged")
