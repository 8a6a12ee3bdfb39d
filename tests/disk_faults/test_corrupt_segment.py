"""Jepsen's file corruption on a follower: bits flipped in a closed segment while it is down. It must find
the damage by its checksums, refetch from its leader, and once it leads serve every acknowledged record
and no corrupt one, through the corrupt-file nemesis on real broker processes."""

from __future__ import annotations

import random
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from tests.deploy.kafka_io import produce

TOPIC = "corrupted"
RECORDS = 400


def partition_state(bootstrap: str) -> tuple[int, list[int]]:
    topic = AdminClient({"bootstrap.servers": bootstrap}).list_topics(TOPIC, timeout=10).topics[TOPIC]
    partition = topic.partitions[0]
    return partition.leader, sorted(partition.isrs)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the cluster did not get there in time"
        time.sleep(0.5)


def read_all(bootstrap: str, count: int, timeout: float = 60) -> list[str]:
    """Partition 0 from the beginning, with librdkafka checking every record's CRC; any error fails the test."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tests", "enable.auto.commit": False,
                         "check.crcs": True})
    try:
        consumer.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        values: list[str] = []
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None:
                assert message.error() is None, message.error()
                values.append(message.value().decode())
        return values
    finally:
        consumer.close()


def rejoin_after_repair(follower, bootstrap: str) -> None:
    """Waits until the restarted follower has registered anew and is back in the ISR having caught up.

    Until its old keeper session ends, the cluster still counts the killed follower in the ISR. One more
    acks=all send settles that: the follower either acknowledges it, holding everything before it, or
    leaves the ISR and rejoins only once it caught up with the leader."""
    wait_for(lambda: follower.log_text().count("joined cluster") >= 2)
    produce(bootstrap, TOPIC, ["settling"])
    wait_for(lambda: follower.node_id in partition_state(bootstrap)[1])


def test_a_follower_with_a_corrupted_closed_segment_repairs_and_then_leads_without_serving_corruption(tmp_path):
    deployment = deploy(ClusterSpec(keepers=1, brokers=3, broker_overrides={"log.segment.bytes": "4096"}),
                        "local", tmp_path).up()
    try:
        bootstrap = deployment.bootstrap_servers
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 3, config={"min.insync.replicas": "2"})])[TOPIC].result(30)
        values = [f"value-{i:04d}-" + "x" * 40 for i in range(RECORDS)]
        for start in range(0, RECORDS, 40):  # batches of their own, so that segments roll between them
            produce(bootstrap, TOPIC, values[start:start + 40])
        leader, isr = partition_state(bootstrap)
        assert len(isr) == 3
        follower = deployment.brokers[[b.node_id for b in deployment.brokers].index(next(i for i in isr if i != leader))]

        fault = nemesis.build(["corrupt-file"], deployment, {
            "rng": random.Random(3), "nemesis_options": {"corrupt-file": "closed-segment", "bitflips": "16"}})
        corrupted = fault.invoke("start-corrupt-file", [follower.name])["corrupted"]
        assert [c["node"] for c in corrupted] == [follower.name] and corrupted[0]["kind"] == "closed-segment"
        fault.invoke("stop-corrupt-file", None)
        rejoin_after_repair(follower, bootstrap)

        for broker in deployment.brokers:
            if broker is not follower:
                broker.stop()
        wait_for(lambda: partition_state(follower.address)[0] == follower.node_id)
        assert read_all(follower.address, RECORDS + 1) == [*values, "settling"]
        assert "cut" in follower.log_text() or "corrupt" in follower.log_text().lower(), follower.log_tail()
    finally:
        deployment.down()
