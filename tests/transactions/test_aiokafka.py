"""Transactions with aiokafka, unmodified: its transactional producer and read_committed consumer."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def _committed_and_aborted(bootstrap: str) -> tuple[list[bytes], list[bytes]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio-1")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait("aio-txn", b"c1")
        await producer.begin_transaction()
        await producer.send_and_wait("aio-txn", b"a1")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait("aio-txn", b"c2")
    finally:
        await producer.stop()
    return await _read(bootstrap, "read_committed", 2), await _read(bootstrap, "read_uncommitted", 3)


async def _read(bootstrap: str, isolation: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition("aio-txn", 0)])
        await consumer.seek_to_beginning()
        values: list[bytes] = []
        while len(values) < expected:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=200), 15)
            values += [record.value for records in batches.values() for record in records]
        return values
    finally:
        await consumer.stop()


def test_committed_and_aborted_transactions(broker):
    committed, uncommitted = asyncio.run(asyncio.wait_for(_committed_and_aborted(broker.bootstrap), 60))
    assert committed == [b"c1", b"c2"]
    assert uncommitted == [b"c1", b"a1", b"c2"]
