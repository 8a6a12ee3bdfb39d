"""Transactions with kafka-python, unmodified, against a broker process."""

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import InvalidProducerEpochError, KafkaError, ProducerFencedError
from kafka.structs import OffsetAndMetadata

from cluster.broker.transactions import txn_index
from tests.kafka_groups import POLL_MS, group_member
from tests.polling import wait_until


def _consume(bootstrap: str, topic: str, isolation: str, expected: int, partition: int = 0) -> list[bytes]:
    """The partition's values from the start, once `expected` of them arrived (or the wait ran out)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                             isolation_level=isolation)
    consumer.assign([TopicPartition(topic, partition)])
    values: list[bytes] = []

    def enough() -> bool:
        for records in consumer.poll(timeout_ms=200).values():
            values.extend(r.value for r in records)
        return len(values) >= expected

    if expected:
        wait_until(enough, f"{expected} values of {topic} read {isolation}", timeout_s=15)
    extra = consumer.poll(timeout_ms=300)  # nothing beyond what is expected may arrive
    values.extend(r.value for records in extra.values() for r in records)
    consumer.close()
    return values


def _end_offset(bootstrap: str, topic: str, isolation: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation)
    tp = TopicPartition(topic, 0)
    end = consumer.end_offsets([tp])[tp]
    consumer.close()
    return end


def _transactional(bootstrap: str, transactional_id: str, **options) -> KafkaProducer:
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id, **options)
    producer.init_transactions()
    return producer


def test_read_committed_sees_committed_transactions_only(broker):
    producer = _transactional(broker.bootstrap, "t1")
    producer.begin_transaction()
    producer.send("txn", b"c1")
    producer.send("txn", b"c2")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("txn", b"a1")
    producer.flush()  # written, then aborted: kafka-python drops batches not yet sent at abort
    producer.abort_transaction()
    producer.begin_transaction()
    producer.send("txn", b"c3")
    producer.commit_transaction()
    producer.close()
    assert _consume(broker.bootstrap, "txn", "read_committed", 3) == [b"c1", b"c2", b"c3"]
    assert _consume(broker.bootstrap, "txn", "read_uncommitted", 4) == [b"c1", b"c2", b"a1", b"c3"]


def test_an_open_transaction_holds_back_read_committed_consumers_only(broker):
    plain = KafkaProducer(bootstrap_servers=broker.bootstrap)
    plain.send("open", b"before").get(timeout=10)
    producer = _transactional(broker.bootstrap, "t-open")
    producer.begin_transaction()
    producer.send("open", b"pending")
    producer.flush()
    plain.send("open", b"after").get(timeout=10)
    assert _end_offset(broker.bootstrap, "open", "read_committed") == 1  # the last stable offset
    assert _end_offset(broker.bootstrap, "open", "read_uncommitted") == 3
    assert _consume(broker.bootstrap, "open", "read_committed", 1) == [b"before"]
    producer.commit_transaction()
    assert _consume(broker.bootstrap, "open", "read_committed", 3) == [b"before", b"pending", b"after"]
    producer.close()
    plain.close()


def test_a_second_producer_with_the_same_id_fences_the_first_and_aborts_its_transaction(broker):
    zombie = _transactional(broker.bootstrap, "t-fence")
    zombie.begin_transaction()
    zombie.send("fenced", b"zombie")
    zombie.flush()
    successor = _transactional(broker.bootstrap, "t-fence")
    with pytest.raises((ProducerFencedError, InvalidProducerEpochError)):
        zombie.commit_transaction()
    successor.begin_transaction()
    successor.send("fenced", b"successor")
    successor.commit_transaction()
    assert _consume(broker.bootstrap, "fenced", "read_committed", 1) == [b"successor"]
    successor.close()
    zombie.close(timeout=1)


def test_a_transaction_past_its_timeout_is_aborted_and_its_producer_fenced(broker):
    producer = _transactional(broker.bootstrap, "t-slow", transaction_timeout_ms=500)
    producer.begin_transaction()
    producer.send("slow", b"too-late")
    producer.flush()
    wait_until(lambda: _end_offset(broker.bootstrap, "slow", "read_committed") == 2,
               "the abort marker written and the last stable offset past it", timeout_s=15)
    with pytest.raises(KafkaError):
        producer.commit_transaction()
    producer.close(timeout=1)
    assert _consume(broker.bootstrap, "slow", "read_uncommitted", 1) == [b"too-late"]
    assert _consume(broker.bootstrap, "slow", "read_committed", 0) == []


@pytest.mark.parametrize("outcome", ["commit", "abort"])
def test_consume_transform_produce_commits_offsets_with_the_output_or_not_at_all(broker, outcome):
    source_topic, output_topic = f"input-{outcome}", f"output-{outcome}"
    source = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(3):
        source.send(source_topic, f"v{i}".encode())
    source.close()
    consumer = group_member(broker.bootstrap, [source_topic], group_id=f"ctp-{outcome}", enable_auto_commit=False,
                            auto_offset_reset="earliest", isolation_level="read_committed")
    read: list = []
    wait_until(lambda: read.extend(r for rs in consumer.poll(timeout_ms=POLL_MS).values() for r in rs) or len(read) >= 3,
               "the input read", timeout_s=15)
    producer = _transactional(broker.bootstrap, f"t-ctp-{outcome}")
    producer.begin_transaction()
    for record in read:
        producer.send(output_topic, record.value.upper())
    consumed = {TopicPartition(source_topic, 0): OffsetAndMetadata(read[-1].offset + 1, "", -1)}
    producer.send_offsets_to_transaction(consumed, consumer.group_metadata())
    if outcome == "commit":
        producer.commit_transaction()
    else:
        producer.flush()
        producer.abort_transaction()
    producer.close()
    committed = consumer.committed(TopicPartition(source_topic, 0))
    consumer.close()
    if outcome == "commit":
        assert committed == 3
        assert _consume(broker.bootstrap, output_topic, "read_committed", 3) == [b"V0", b"V1", b"V2"]
    else:
        assert committed is None
        assert _consume(broker.bootstrap, output_topic, "read_committed", 0) == []


def test_a_killed_broker_restarts_with_its_transactions_and_aborted_index_rebuilt(broker):
    producer = _transactional(broker.bootstrap, "t-restart", transaction_timeout_ms=1_000)
    producer.begin_transaction()
    producer.send("restart", b"c1")
    producer.commit_transaction()
    producer.begin_transaction()
    producer.send("restart", b"a1")
    producer.flush()
    producer.abort_transaction()
    producer.begin_transaction()
    producer.send("restart", b"left-open")
    producer.flush()
    index = txn_index.path_of(broker.data_dir / "restart-0", 0)
    assert [entry.first_offset for entry in txn_index.decode(index.read_bytes())] == [2]
    broker.kill()
    index.unlink()
    broker.start()
    # the restarted coordinator replays __transaction_state and aborts the open transaction by its timeout
    wait_until(lambda: _end_offset(broker.bootstrap, "restart", "read_committed") == 6,
               "the open transaction aborted after the restart", timeout_s=30)
    assert _consume(broker.bootstrap, "restart", "read_committed", 1) == [b"c1"]
    assert [entry.first_offset for entry in txn_index.decode(index.read_bytes())] == [2, 4]
    producer.close(timeout=1)


def _transform(consumer: KafkaConsumer, producer: KafkaProducer, count: int, commit: bool = True) -> None:
    """Reads `count` input records, each turned into an output record in its own transaction with its offset."""
    for _ in range(count):
        [record] = wait_until(lambda: [r for rs in consumer.poll(timeout_ms=POLL_MS, max_records=1).values() for r in rs],
                              "an input record", timeout_s=15)
        producer.begin_transaction()
        producer.send("ctp-crash-out", record.value.upper())
        offsets = {TopicPartition("ctp-crash-in", 0): OffsetAndMetadata(record.offset + 1, "", -1)}
        producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
        if commit:
            producer.commit_transaction()
        else:
            producer.flush()


def _app(broker) -> tuple[KafkaConsumer, KafkaProducer]:
    consumer = group_member(broker.bootstrap, ["ctp-crash-in"], group_id="ctp-crash", enable_auto_commit=False,
                            auto_offset_reset="earliest", isolation_level="read_committed")
    return consumer, _transactional(broker.bootstrap, "t-ctp-crash")


def test_consume_transform_produce_is_exactly_once_across_a_broker_crash(broker):
    """The committed offsets of transactions survive the crash (replayed from __consumer_offsets with their
    markers), the open transaction is aborted by the restarted application's producer, which fences the old one."""
    source = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(6):
        source.send("ctp-crash-in", f"v{i}".encode())
    source.close()
    consumer, producer = _app(broker)
    _transform(consumer, producer, 3)
    _transform(consumer, producer, 1, commit=False)  # open when the broker dies
    consumer.close()
    broker.kill()
    broker.start()
    producer.close(timeout=1)
    consumer, producer = _app(broker)
    _transform(consumer, producer, 3)
    consumer.close()
    producer.close()
    assert _consume(broker.bootstrap, "ctp-crash-out", "read_committed", 6) == [f"V{i}".encode() for i in range(6)]
