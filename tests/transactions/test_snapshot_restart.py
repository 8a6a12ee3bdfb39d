"""A broker restarted cleanly rebuilds its partitions' producer state from the snapshots its shutdown
wrote: an idempotent producer's retry of a batch sent before the restart is still recognised, and a
transaction open across the restart still holds back read-committed readers until it commits."""

import asyncio

from kafka import KafkaProducer

from cluster.broker.peer_client import PeerConnection
from cluster.broker.protocol.apis.init_producer_id import INIT_PRODUCER_ID, InitProducerIdRequest
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.records import Record, build_batch
from tests.transactions.test_kafka_python import _consume, _end_offset, _transactional

TOPIC = "snapshot-restart"


async def _call(bootstrap: str, api, version: int, body):
    host, _, port = bootstrap.rpartition(":")
    connection = PeerConnection(host, int(port), 1 << 20)
    try:
        return await connection.call(api, version, body, 10)
    finally:
        connection.close()


def _produce(bootstrap: str, batch: bytes) -> tuple[ErrorCode, int]:
    """One Produce request carrying `batch`, byte for byte as a client's retry would carry it again."""
    body = ProduceRequest(transactional_id=None, acks=-1, timeout_ms=5_000, topic_data=[TopicProduceData(
        name=TOPIC, partition_data=[PartitionProduceData(index=0, records=batch)])])
    answer = asyncio.run(_call(bootstrap, PRODUCE, 8, body)).responses[0].partition_responses[0]
    return ErrorCode(answer.error_code), answer.base_offset


def _idempotent_batch(bootstrap: str) -> bytes:
    ids = asyncio.run(_call(bootstrap, INIT_PRODUCER_ID, 1, InitProducerIdRequest(transactional_id=None,
                                                                                   transaction_timeout_ms=60_000)))
    return bytes(build_batch([Record(offset=0, timestamp=1_700_000_000_000, value=b"idempotent")],
                             producer_id=ids.producer_id, producer_epoch=ids.producer_epoch, base_sequence=0))


def test_a_retry_and_an_open_transaction_outlive_a_clean_restart(broker):
    plain = KafkaProducer(bootstrap_servers=broker.bootstrap)
    plain.send(TOPIC, b"first").get(timeout=15)  # creates the topic
    plain.close()
    batch = _idempotent_batch(broker.bootstrap)
    assert _produce(broker.bootstrap, batch) == (ErrorCode.NONE, 1)
    producer = _transactional(broker.bootstrap, "t-snapshot-restart")
    producer.begin_transaction()
    producer.send(TOPIC, b"open across the restart")
    producer.flush()  # at offset 2, and the log ends at 3

    broker.stop()
    broker.start()

    assert f"{TOPIC}-0: producer state rebuilt from the snapshot at offset 3 and 0 batch(es)" in broker.log_text()
    assert _end_offset(broker.bootstrap, TOPIC, "read_committed") == 2, "the open transaction holds readers back"
    assert _produce(broker.bootstrap, batch) == (ErrorCode.NONE, 1), "the retry is answered with its offset"
    producer.commit_transaction()
    assert _consume(broker.bootstrap, TOPIC, "read_committed", 3) == [b"first", b"idempotent",
                                                                       b"open across the restart"]
    producer.close(timeout=1)
