"""Joining a group with kafka-python 3.0.12 without meeting its lost-assignment bug.

kafka-python 3.0.12 drops the assignment of a rebalance that a metadata change started when the
rebalance outlasts the poll that began it: the join finishes in the background, but the next poll
no longer sees a reason to rejoin and never applies what the join brought, so the member keeps an
empty assignment for good (Kafka's Java client fixed the same shape in KAFKA-9815). A member that
joins before it has its topics' metadata meets exactly that: it assigns itself nothing, the
metadata arrives and starts a second rebalance. Fetching the metadata first makes the first join
the only one, and polling for a second at a time lets it finish inside one poll.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from tests.polling import wait_until


def wait_for_assignment(consumer: KafkaConsumer, topics: list[str]) -> set[TopicPartition]:
    """Polls a subscribed consumer until the group has given it partitions, and returns them."""
    for topic in topics:
        consumer.partitions_for_topic(topic)
    return wait_until(lambda: consumer.poll(timeout_ms=1_000) == {} and consumer.assignment(),
                      f"an assignment of {', '.join(topics)}")
