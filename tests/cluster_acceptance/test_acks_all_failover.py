"""acks=all with replication factor 3 and min.insync.replicas 2, against real broker processes:
no acknowledged write is lost when the partition leader is SIGKILLed, and with two of three
brokers gone acks=all is refused (NOT_ENOUGH_REPLICAS) while acks=1 is still accepted, and the
harness's queue client records that refusal as failed without retries, unknown with them."""

from __future__ import annotations

from collections import defaultdict

from confluent_kafka import KafkaError

from cluster.broker.metadata.partition_state import NO_LEADER
from logquake.registry import WORKLOADS
from workloads.queue.client import open_client
from tests.live_cluster import Delivery, LiveCluster, TrackedProducer, read_partition

PARTITIONS = 3
MIN_ISR = {"min.insync.replicas": "2"}


def test_every_acknowledged_write_survives_sigkill_of_the_leader_which_rejoins_the_isr(cluster: LiveCluster) -> None:
    topic = "acks-all-leader-killed"
    view = cluster.create_topic(topic, PARTITIONS, MIN_ISR)
    victim = cluster.state(view, topic, 0).leader
    phases = {phase: [f"{phase}-{i}" for i in range(300)] for phase in ("before", "during", "failover", "after")}
    sent_order = {value: n for n, value in enumerate(v for values in phases.values() for v in values)}
    producer = TrackedProducer(cluster.bootstrap, acks="all", **{"enable.idempotence": True,
                                                                 "message.timeout.ms": 120_000})
    producer.send(topic, phases["before"], PARTITIONS)
    producer.finish()
    producer.send(topic, phases["during"], PARTITIONS)
    cluster.broker(victim).kill()
    producer.send(topic, phases["failover"], PARTITIONS)
    cluster.wait_view(lambda v: cluster.state(v, topic, 0).leader not in (victim, NO_LEADER),
                      f"a new leader for {topic}-0 after broker {victim} was killed")
    cluster.broker(victim).start()
    producer.send(topic, phases["after"], PARTITIONS)
    deliveries = producer.finish()

    acknowledged = [d for d in deliveries if d.acknowledged]
    assert any(d.value.startswith("during-") and d.partition == 0 for d in acknowledged)
    assert any(d.value.startswith("after-") and d.partition == 0 for d in acknowledged)
    cluster.wait_view(lambda v: victim in cluster.state(v, topic, 0).isr and len(cluster.state(v, topic, 0).isr) == 3,
                      f"broker {victim} back in the ISR of {topic}-0")
    for partition, sent in _by_partition(acknowledged).items():
        records = read_partition(cluster.bootstrap, topic, partition, must_hold={d.value for d in sent})
        _assert_offset_order(records, partition)
        stored = dict(records)
        lost = [d for d in sent if stored.get(d.offset) != d.value]
        assert lost == [], f"{topic}-{partition}: {len(lost)} acknowledged write(s) not at their offset, e.g. {lost[:3]}"
        values = [value for _, value in records]
        assert len(values) == len(set(values)), f"{topic}-{partition}: duplicates despite idempotence"
        in_log_order = [sent_order[d.value] for d in sorted(sent, key=lambda d: d.offset)]
        assert in_log_order == sorted(in_log_order), f"{topic}-{partition}: acknowledged writes stored out of send order"


def test_two_of_three_brokers_down_refuses_acks_all_and_accepts_acks_one(cluster: LiveCluster) -> None:
    topic = "acks-two-brokers-down"
    view = cluster.create_topic(topic, 1, MIN_ISR)
    survivor = cluster.state(view, topic, 0).leader
    for broker_id in cluster.broker_ids - {survivor}:
        cluster.broker(broker_id).kill()
    cluster.wait_view(lambda v: cluster.state(v, topic, 0).isr == (survivor,),
                      f"{topic}-0's ISR shrunk to the one live broker {survivor}")

    no_retries = {"retries": 0, "enable.idempotence": False, "message.timeout.ms": 30_000}
    all_producer = TrackedProducer(cluster.bootstrap, acks="all", **no_retries)
    all_producer.send(topic, ["acks-all"])
    (refused,) = all_producer.finish()
    one_producer = TrackedProducer(cluster.bootstrap, acks="1", **no_retries)
    one_producer.send(topic, ["acks-one"])
    (accepted,) = one_producer.finish()

    assert refused.error is not None and refused.error.code() == KafkaError.NOT_ENOUGH_REPLICAS, refused
    assert accepted.acknowledged and accepted.offset >= 0, accepted
    assert _queue_send_outcomes(cluster.bootstrap, topic, "kafka-python") == {0: "fail", 2: "info"}
    # librdkafka resends after a leader change whatever `retries` says: a refusal never proves nothing landed.
    assert _queue_send_outcomes(cluster.bootstrap, topic, "confluent-kafka") == {0: "info", 2: "info"}
    cluster.restore()
    cluster.wait_view(lambda v: len(cluster.state(v, topic, 0).isr) == 3, f"{topic}-0 fully in sync again")
    assert [value for _, value in read_partition(cluster.bootstrap, topic, 0, must_hold={"acks-one"})] == ["acks-one"]


def _queue_send_outcomes(bootstrap: str, topic: str, client: str) -> dict[int, str]:
    """What the queue client records for a send refused with NOT_ENOUGH_REPLICAS, by producer retries.

    A refusal before appending is a definite failure only when no earlier attempt of the send can
    have been appended; with client retries one may have been (an earlier NOT_ENOUGH_REPLICAS_AFTER_APPEND),
    and with librdkafka always (it resends after NOT_LEADER_OR_FOLLOWER without counting a retry)."""
    outcomes = {}
    for retries in (0, 2):
        spec = WORKLOADS.spec(brokers=3, keepers=3, partitions=1, topic=topic, client=client, retries=retries,
                              op_timeout=10)
        queue_client = open_client(spec, bootstrap, retries)
        try:
            completion = queue_client.invoke({"f": "send", "value": {"partition": 0, "value": retries}})
        finally:
            queue_client.close()
        assert "NOT_ENOUGH_REPLICAS" in completion.get("error", "") or "NotEnoughReplicas" in completion.get("error", ""), \
            completion
        outcomes[retries] = completion["type"]
    return outcomes


def _by_partition(deliveries: list[Delivery]) -> dict[int, list[Delivery]]:
    grouped: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        grouped[delivery.partition].append(delivery)
    return grouped


def _assert_offset_order(records: list[tuple[int, str]], partition: int) -> None:
    offsets = [offset for offset, _ in records]
    assert offsets == sorted(set(offsets)), f"partition {partition} was read out of offset order"
