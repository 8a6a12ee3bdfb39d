"""The harness's own admin calls: create the topic, wait for leaders, read high watermarks.

These are retried with tenacity: creating a topic that may already exist, or asking where a
partition ends, cannot hide the outcome of any operation in the history.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tenacity import retry, stop_after_delay, wait_fixed

from workloads.queue.options import KafkaTopicOptions

_log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36


class AdminError(RuntimeError):
    """The cluster would not create or describe the topic in time."""


def create_topic(options: KafkaTopicOptions, bootstrap: str, timeout: float = 60) -> None:
    """Create the topic (an existing one is accepted) and wait until every partition has a leader."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": _log}
    admin = AdminClient(config)
    topic = NewTopic(options.topic, num_partitions=options.partitions, replication_factor=options.replication_factor,
                     config={"min.insync.replicas": str(options.min_insync)})

    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.5), reraise=True)
    def create() -> None:
        try:
            admin.create_topics([topic], request_timeout=10)[options.topic].result(timeout=15)
        except KafkaException as error:
            if error.args[0].code() != TOPIC_ALREADY_EXISTS:
                raise AdminError(f"creating topic {options.topic}: {error.args[0].str()}") from None
        _log.info("topic %s: %d partitions, replication factor %d, min.insync.replicas %d",
                  options.topic, options.partitions, options.replication_factor, options.min_insync)

    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.5), reraise=True)
    def leaders() -> None:
        metadata = admin.list_topics(options.topic, timeout=10).topics[options.topic]
        missing = [p for p in range(options.partitions)
                   if p not in metadata.partitions or metadata.partitions[p].leader < 0
                   or metadata.partitions[p].error is not None]
        if metadata.error is not None or missing:
            raise AdminError(f"topic {options.topic}: no leader yet for partitions {missing} ({metadata.error})")

    create()
    leaders()


def high_watermarks(options: KafkaTopicOptions, bootstrap: str, timeout: float = 30) -> dict[int, int]:
    """Each partition's high watermark (next offset to be written), to know how far final reads must go."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"logquake-{options.topic}-watermarks",
                         "enable.auto.commit": False, "logger": _log})

    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.5), reraise=True)
    def watermark(partition: int) -> int:
        return consumer.get_watermark_offsets(TopicPartition(options.topic, partition), timeout=5)[1]

    try:
        return {p: watermark(p) for p in range(options.partitions)}
    finally:
        consumer.close()
