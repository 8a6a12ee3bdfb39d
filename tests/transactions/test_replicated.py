"""Transactions on three replicated brokers: markers written by other brokers' partition leaders, and
the coordinator's broker killed mid-transaction (the transaction then commits or aborts whole)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from confluent_kafka import KafkaException, Producer

from cluster.broker.transactions.state_records import TRANSACTION_STATE_TOPIC
from tests.broker_cluster.conftest import OVERRIDES
from tests.live_cluster import LiveCluster, live_cluster, whole_again
from tests.polling import wait_until

__all__ = ["cluster", "whole_again"]
PARTITIONS = 3


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    overrides = {**OVERRIDES, "transaction.state.log.num.partitions": "1",
                 "transaction.abort.timed.out.transaction.cleanup.interval.ms": "500"}
    with live_cluster(tmp_path_factory.mktemp("cluster"), 1, overrides) as live:
        yield live


def _read_committed(cluster: LiveCluster, topic: str) -> dict[int, list[bytes]]:
    """Each partition's committed values, once no transaction holds its last stable offset below its high
    watermark any more (every transaction in it has ended, which must happen), read up to there."""
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap, isolation_level="read_committed",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    uncommitted = KafkaConsumer(bootstrap_servers=cluster.bootstrap, isolation_level="read_uncommitted")
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    ends = wait_until(lambda: _settled(consumer.end_offsets(partitions), uncommitted.end_offsets(partitions)),
                      f"every transaction in {topic} ended", timeout_s=60)
    uncommitted.close()
    consumer.assign(partitions)
    values: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}

    def caught_up() -> bool:
        for tp, records in consumer.poll(timeout_ms=200).items():
            values[tp.partition] += [r.value for r in records]
        return all(consumer.position(tp) >= ends[tp] for tp in partitions)

    wait_until(caught_up, f"{topic} read to its last stable offsets {ends}", timeout_s=60)
    consumer.close()
    return values


def _settled(stable: dict, high: dict) -> dict | None:
    return stable if stable == high else None


def _producer(cluster: LiveCluster, transactional_id: str) -> KafkaProducer:
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, transactional_id=transactional_id,
                             transaction_timeout_ms=5_000, request_timeout_ms=10_000)
    producer.init_transactions()
    return producer


def test_markers_reach_partitions_led_by_other_brokers(cluster):
    view = cluster.create_topic("spread", PARTITIONS)
    assert len({cluster.state(view, "spread", p).leader for p in range(PARTITIONS)}) > 1
    producer = _producer(cluster, "spread-1")
    producer.begin_transaction()
    for p in range(PARTITIONS):
        producer.send("spread", f"c{p}".encode(), partition=p)
    producer.commit_transaction()
    producer.begin_transaction()
    for p in range(PARTITIONS):
        producer.send("spread", f"a{p}".encode(), partition=p)
    producer.flush()
    producer.abort_transaction()
    producer.close()
    assert _read_committed(cluster, "spread") == {p: [f"c{p}".encode()] for p in range(PARTITIONS)}


def test_killing_the_coordinator_mid_transaction_leaves_it_whole(cluster):
    """librdkafka's producer: kafka-python's keeps asking the dead coordinator it found before the election."""
    cluster.create_topic("failover", PARTITIONS)
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "failover-1",
                         "transaction.timeout.ms": 5_000})
    producer.init_transactions(30)
    producer.begin_transaction()
    for p in range(PARTITIONS):
        producer.produce("failover", f"v{p}".encode(), partition=p)
    assert producer.flush(30) == 0
    view = cluster.wait_view(lambda v: (TRANSACTION_STATE_TOPIC, 0) in v.states, "the coordinator's partition led")
    cluster.broker(cluster.state(view, TRANSACTION_STATE_TOPIC, 0).leader).kill()
    committed = _commit_or_abort(producer)
    values = _read_committed(cluster, "failover")
    whole = {p: [f"v{p}".encode()] for p in range(PARTITIONS)}
    assert values == whole if committed else values in (whole, {p: [] for p in range(PARTITIONS)}), values


def _commit_or_abort(producer: Producer) -> bool:
    """Whether librdkafka reported the commit done: it retries what may be retried, and aborts when it
    says the commit cannot be; a fenced producer's transaction was aborted by the new coordinator."""
    for _ in range(5):
        try:
            producer.commit_transaction(30)
            return True
        except KafkaException as exception:
            error = exception.args[0]
            if error.fatal():
                return False
            if error.txn_requires_abort():
                producer.abort_transaction(30)
                return False
    return False


def test_a_commit_decided_by_a_killed_coordinator_is_finished_by_its_successor(cluster):
    """The leader of one partition is paused so its marker cannot be written, and the coordinator is killed
    once the commit is decided: the next coordinator must write the markers it did not."""
    cluster.create_topic("resumed", PARTITIONS)
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "resumed-1"})
    producer.init_transactions(30)
    view = cluster.wait_view(lambda v: (TRANSACTION_STATE_TOPIC, 0) in v.states, "the coordinator's partition led")
    coordinator = cluster.state(view, TRANSACTION_STATE_TOPIC, 0).leader
    stalled = next(cluster.state(view, "resumed", p).leader for p in range(PARTITIONS)
                   if cluster.state(view, "resumed", p).leader != coordinator)
    producer.begin_transaction()
    for p in range(PARTITIONS):
        producer.produce("resumed", f"v{p}".encode(), partition=p)
    assert producer.flush(30) == 0
    cluster.broker(stalled).pause()
    producer.commit_transaction(60)  # answered once decided: the paused leader's marker is still to come
    cluster.broker(coordinator).kill()
    cluster.broker(stalled).resume()
    successor = cluster.wait_view(
        lambda v: cluster.state(v, TRANSACTION_STATE_TOPIC, 0).leader not in (coordinator, -1),
        "a new coordinator").states[(TRANSACTION_STATE_TOPIC, 0)].leader
    assert _read_committed(cluster, "resumed") == {p: [f"v{p}".encode()] for p in range(PARTITIONS)}
    assert "finishing the commit of 'resumed-1'" in cluster.broker(successor).log_text()
    producer.flush(1)
