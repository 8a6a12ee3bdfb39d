"""Group members of kafka-python 3.0.12 that do not meet its lost-assignment bug.

kafka-python 3.0.12 drops the assignment of a rebalance that a metadata change started when the
rebalance outlasts the poll that began it: the join finishes in the background, but the next poll
no longer sees a reason to rejoin and never applies what the join brought, so the member keeps an
empty assignment for good (Kafka's Java client fixed the same shape in KAFKA-9815). A member that
joins before it has its topics' metadata meets exactly that: it assigns itself nothing, the
metadata arrives and starts a second rebalance. Fetching the metadata first makes the first join
the only one, and polling for POLL_MS at a time lets a join finish inside one poll.
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, TopicPartition

from tests.polling import wait_until

POLL_MS = 1_000
"""A poll returns as soon as it has records, so this bounds only the polls that find none."""


def group_member(bootstrap: str, topics: list[str], **config: Any) -> KafkaConsumer:
    """A consumer subscribed to `topics` whose first join already knows their partitions."""
    consumer = KafkaConsumer(*topics, bootstrap_servers=bootstrap, **config)
    for topic in topics:
        consumer.partitions_for_topic(topic)
    return consumer


def wait_for_assignment(consumer: KafkaConsumer) -> set[TopicPartition]:
    """Polls a member that expects no records until the group has given it partitions, and returns them."""
    return wait_until(lambda: consumer.poll(timeout_ms=POLL_MS) == {} and consumer.assignment(), "an assignment")
