"""Real confluent-kafka clients against one broker of a deployment, for the backend and nemesis tests."""

from __future__ import annotations

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient


def produce(bootstrap: str, topic: str, values: list[str]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 20000})
    errors: list[str] = []
    for value in values:
        producer.produce(topic, value.encode(), on_delivery=lambda error, _: errors.append(str(error)) if error else None)
    assert producer.flush(30) == 0, "messages still in flight after 30 s"
    assert errors == []


def consume(bootstrap: str, topic: str, count: int) -> list[str]:
    """The first `count` values of partition 0, read from the beginning (assigned: no group rebalance to wait for)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tests", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        values: list[str] = []
        for _ in range(300):
            if len(values) >= count:
                break
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                values.append(message.value().decode())
        return values
    finally:
        consumer.close()


def answers_metadata(bootstrap: str, timeout: float = 3) -> bool:
    """Whether the broker answers a Metadata request within timeout (a paused broker accepts but never answers)."""
    try:
        AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
        return True
    except KafkaException:
        return False
