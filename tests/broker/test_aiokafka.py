"""aiokafka, unmodified, against a real broker process."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def test_aiokafka_produces_and_consumes(broker):
    async def scenario() -> list[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for i in range(200):
                await producer.send("async-topic", b"a%d" % i)
            await producer.flush()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer("async-topic", bootstrap_servers=broker.bootstrap, group_id="async",
                                    auto_offset_reset="earliest")
        await consumer.start()
        received: list[bytes] = []
        try:
            while len(received) < 200:
                batches = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 30)
                received += [record.value for records in batches.values() for record in records]
        finally:
            await consumer.stop()
        return received

    assert asyncio.run(scenario()) == [b"a%d" % i for i in range(200)]
