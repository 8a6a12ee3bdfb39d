"""Transactions with librdkafka (confluent-kafka), unmodified: its producer and read_committed consumer."""

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from tests.polling import wait_until


def _values(bootstrap: str, topic: str, isolation: str, expected: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{isolation}",
                         "enable.auto.commit": False, "isolation.level": isolation})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []

    def enough() -> bool:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            values.append(message.value())
        return len(values) >= expected

    wait_until(enough, f"{expected} values read {isolation}", timeout_s=15, every_s=0)
    consumer.close()
    return values


def test_committed_and_aborted_transactions(broker):
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "rd-1"})
    producer.init_transactions(15)
    producer.begin_transaction()
    producer.produce("rd-txn", b"c1")
    producer.commit_transaction(15)
    producer.begin_transaction()
    producer.produce("rd-txn", b"a1")
    producer.flush(15)
    producer.abort_transaction(15)
    producer.begin_transaction()
    producer.produce("rd-txn", b"c2")
    producer.commit_transaction(15)
    assert _values(broker.bootstrap, "rd-txn", "read_committed", 2) == [b"c1", b"c2"]
    assert _values(broker.bootstrap, "rd-txn", "read_uncommitted", 3) == [b"c1", b"a1", b"c2"]


def test_a_fenced_producer_cannot_commit(broker):
    zombie = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "rd-fence"})
    zombie.init_transactions(15)
    zombie.begin_transaction()
    zombie.produce("rd-fenced", b"zombie")
    zombie.flush(15)
    successor = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "rd-fence"})
    successor.init_transactions(15)
    try:
        zombie.commit_transaction(15)
    except KafkaException as error:
        assert error.args[0].fatal() or error.args[0].txn_requires_abort()
    else:
        raise AssertionError("the fenced producer committed")
    successor.begin_transaction()
    successor.produce("rd-fenced", b"successor")
    successor.commit_transaction(15)
    assert _values(broker.bootstrap, "rd-fenced", "read_committed", 1) == [b"successor"]
