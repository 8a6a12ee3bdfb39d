"""Losing a broker that holds a role: the controller's role and its leaderships move to live brokers,
and a consumer group's committed offsets outlive the broker that coordinated the group."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

from cluster.broker.controller.view import ClusterView
from cluster.broker.groups.offsets import partition_for_group
from cluster.broker.metadata.partition_state import NO_LEADER
from tests.live_cluster import BROKER_OVERRIDES, LiveCluster, TrackedProducer

OFFSETS_TOPIC = "__consumer_offsets"


def test_killing_the_controller_elects_another_and_moves_its_leaderships(cluster: LiveCluster) -> None:
    topic = "controller-killed"
    view = cluster.create_topic(topic, 3)
    controller, epoch = view.controller, view.controller_epoch
    assert controller is not None
    led = [p for p in range(3) if cluster.state(view, topic, p).leader == controller]
    assert led, f"round-robin assignment should give controller {controller} a leadership of {topic}"

    cluster.broker(controller).kill()

    def moved(v: ClusterView) -> bool:
        leaders = [cluster.state(v, topic, p).leader for p in led]
        return v.controller not in (None, controller) and all(leader in v.live - {controller} for leader in leaders)

    after = cluster.wait_view(moved, f"a new controller and new leaders for {topic} partitions {led}")
    assert after.controller_epoch > epoch
    for partition in led:
        state = cluster.state(after, topic, partition)
        assert state.leader_epoch > cluster.state(view, topic, partition).leader_epoch
        assert controller not in state.isr


def test_a_group_keeps_its_committed_offsets_when_its_coordinator_dies(cluster: LiveCluster) -> None:
    topic, group = "group-offsets", "acceptance-group"
    cluster.create_topic(topic, 1)
    values = [f"message-{i}" for i in range(10)]
    producer = TrackedProducer(cluster.bootstrap, acks="all")
    producer.send(topic, values)
    assert all(d.acknowledged for d in producer.finish())
    _consume_and_commit(cluster.bootstrap, topic, group, count=4)

    offsets_partition = partition_for_group(group, int(BROKER_OVERRIDES["offsets.topic.num.partitions"]))
    coordinator = cluster.state(cluster.current_view(), OFFSETS_TOPIC, offsets_partition).leader
    cluster.broker(coordinator).kill()
    cluster.wait_view(lambda v: cluster.state(v, OFFSETS_TOPIC, offsets_partition).leader not in (coordinator, NO_LEADER),
                      f"a new leader for {OFFSETS_TOPIC}-{offsets_partition}, group {group}'s coordinator")

    consumer = _group_consumer(cluster.bootstrap, group)
    try:
        assert _committed(consumer, TopicPartition(topic, 0)) == 4
        consumer.subscribe([topic])
        assert _next_value(consumer) == values[4]
    finally:
        consumer.close()


def _group_consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000})


def _consume_and_commit(bootstrap: str, topic: str, group: str, count: int) -> None:
    consumer = _group_consumer(bootstrap, group)
    try:
        consumer.subscribe([topic])
        for _ in range(count):
            _next_value(consumer)
        consumer.commit(offsets=[TopicPartition(topic, 0, count)], asynchronous=False)
    finally:
        consumer.close()


def _next_value(consumer: Consumer, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            return message.value().decode()
    raise AssertionError(f"no message within {timeout:g}s")


def _committed(consumer: Consumer, partition: TopicPartition, timeout: float = 60) -> int:
    """The group's committed offset, asked again while the coordinator moves (librdkafka gives up on its own)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            (committed,) = consumer.committed([partition], timeout=10)
            return committed.offset
        except KafkaException:
            if time.monotonic() > deadline:
                raise
