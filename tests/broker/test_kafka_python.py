"""kafka-python, unmodified, against a real broker process."""

import threading
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata


def read_all(bootstrap: str, topic: str, partitions: int, expected: int, timeout_s: float = 30) -> dict[int, list]:
    """Every record of the topic from the beginning, per partition, by a consumer that assigns itself."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    records: dict[int, list] = {p: [] for p in range(partitions)}
    deadline = time.monotonic() + timeout_s
    while sum(map(len, records.values())) < expected and time.monotonic() < deadline:
        for tp, batch in consumer.poll(timeout_ms=500).items():
            records[tp.partition] += batch
    consumer.close()
    return records


def test_admin_creates_topics_and_refuses_duplicates(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("orders", 4, 1, topic_configs={"retention.ms": "3600000"})])
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics([NewTopic("orders", 4, 1)])
    assert "orders" in admin.list_topics()
    [described] = admin.describe_topics(["orders"])
    assert len(described["partitions"]) == 4
    admin.close()


@pytest.mark.parametrize("acks", [0, 1, "all", "default-idempotent"])
def test_producer_acks_levels_deliver_every_message_in_order(broker, acks):
    options = {} if acks == "default-idempotent" else {"acks": acks, "enable_idempotence": False}
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, **options)
    values = [f"m{i}".encode() for i in range(300)]
    futures = [producer.send("acks-topic", key=b"same-key", value=v) for v in values]
    producer.flush()
    for future in futures:
        future.get(timeout=10)
    producer.close()
    records = read_all(broker.bootstrap, "acks-topic", 1, len(values))
    assert [r.value for r in records[0]] == values
    assert [r.offset for r in records[0]] == list(range(len(values)))


def test_a_group_of_three_receives_everything_exactly_once_while_a_member_leaves(broker):
    topic, total = "grouped", 1200
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 6, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(total):
        producer.send(topic, value=f"{i}".encode())
    producer.close()

    processed: list[bytes] = []
    lock = threading.Lock()
    done = threading.Event()

    def member(leave_after: int | None) -> None:
        consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id="three", enable_auto_commit=False,
                                 auto_offset_reset="earliest", max_poll_records=20, session_timeout_ms=10_000)
        mine = 0
        while not done.is_set():
            batch = [r.value for records in consumer.poll(timeout_ms=200).values() for r in records]
            if not batch:
                continue
            try:
                consumer.commit()
            except CommitFailedError:
                continue  # not committed, so not processed: the partition's next owner gets these again
            with lock:
                processed.extend(batch)
                if len(processed) >= total:
                    done.set()
            mine += len(batch)
            if leave_after is not None and mine >= leave_after:
                break
        consumer.close()

    threads = [threading.Thread(target=member, args=(limit,)) for limit in (None, None, 100)]
    for thread in threads:
        thread.start()
    done.wait(timeout=120)
    done.set()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(processed, key=int) == [f"{i}".encode() for i in range(total)]


def test_commit_committed_and_offsets_for_times(broker):
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    base = 1_700_000_000_000
    for i in range(10):
        producer.send("timed", value=b"%d" % i, timestamp_ms=base + i * 1000)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="committer", enable_auto_commit=False)
    partition = TopicPartition("timed", 0)
    consumer.assign([partition])
    consumer.commit({partition: OffsetAndMetadata(7, "note", -1)})
    assert consumer.committed(partition) == 7
    found = consumer.offsets_for_times({partition: base + 4500})[partition]
    assert (found.offset, found.timestamp) == (5, base + 5000)
    assert consumer.offsets_for_times({partition: base + 60_000})[partition] is None
    assert consumer.beginning_offsets([partition]) == {partition: 0}
    assert consumer.end_offsets([partition]) == {partition: 10}
    consumer.close()
