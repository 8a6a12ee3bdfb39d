"""A broker on a failing disk, in process, with the disk's faults injected under its log dir: a full
disk refuses produce with KAFKA_STORAGE_ERROR and a message while reads go on, and any other I/O
error, met by whichever task was writing, halts the broker before anything else is served."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from cluster.broker.broker import Broker
from cluster.broker.config import BrokerConfig
from cluster.broker.log import LogConfig, PartitionLog, dump
from cluster.broker.log.errors import LogDirFailedError
from cluster.broker.log_dir_failure import LogDirFailure
from cluster.broker.partition import Partition
from cluster.broker.peer_client import PeerConnection
from cluster.broker.protocol.apis import fetch as wire_fetch
from cluster.broker.protocol.apis.metadata import METADATA, MetadataRequest
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.record_batch import iter_batches
from cluster.broker.protocol.records import Record, build_batch, decode_records
from cluster.broker.replication import FetchResponse, ReplicationConfig
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.server import BrokerServer
from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.ports import HOST, free_port
from tests.log.disk import Disk

TOPIC = "disk"
SHUTDOWN_LINE = "Shutdown broker because all log dirs in"


@asynccontextmanager
async def serving(log_dir: Path, halts: list[int], **overrides: str) -> AsyncIterator[tuple[Broker, PeerConnection]]:
    """A broker alone with one partition of TOPIC, and a client connection to it; `halts` records halt()."""
    config = BrokerConfig.from_properties({"log.dirs": str(log_dir), "listeners": f"PLAINTEXT://{HOST}:{free_port()}",
                                           **overrides})
    broker = Broker(config, halt=halts.append)
    broker.load()
    server = BrokerServer(broker)
    await broker.start()
    await server.start()
    broker.start_housekeeping()
    if broker.topics.get(TOPIC) is None:
        await broker.create_topic(TOPIC, 1)
    client = PeerConnection(*server.address, 1 << 24)
    try:
        yield broker, client
    finally:
        client.close()
        await server.close()
        await broker.close()


async def produce(client: PeerConnection, value: bytes, acks: int = -1) -> Any:
    batch = build_batch([Record(offset=0, timestamp=int(time.time() * 1000), value=value)])
    body = ProduceRequest(transactional_id=None, acks=acks, timeout_ms=5_000, topic_data=[TopicProduceData(
        name=TOPIC, partition_data=[PartitionProduceData(index=0, records=bytes(batch))])])
    return (await client.call(PRODUCE, 8, body, 10)).responses[0].partition_responses[0]


async def fetch_values(client: PeerConnection) -> tuple[ErrorCode, list[bytes]]:
    body = wire_fetch.FetchRequest(
        replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1,
        topics=[wire_fetch.FetchTopic(topic=TOPIC, partitions=[wire_fetch.FetchPartition(
            partition=0, current_leader_epoch=-1, fetch_offset=0, log_start_offset=-1, partition_max_bytes=1 << 20)])],
        forgotten_topics_data=[], rack_id="",
    )
    data = (await client.call(wire_fetch.FETCH, 11, body, 10)).responses[0].partitions[0]
    raw = bytes(data.records or b"")
    batches = [raw[position : position + header.size] for position, header in iter_batches(raw)]
    return ErrorCode(data.error_code), [record.value for batch in batches for record in decode_records(batch)]


def test_a_full_disk_refuses_produce_with_a_storage_error_reads_go_on_and_writes_resume(tmp_path, monkeypatch) -> None:
    async def scenario() -> None:
        halts: list[int] = []
        async with serving(tmp_path / "data", halts) as (broker, client):
            assert (await produce(client, b"before")).error_code == ErrorCode.NONE
            disk = Disk(tmp_path / "data", budget=20).install(monkeypatch)
            for acks in (-1, 1):
                refused = await produce(client, b"while full" * 10, acks)
                assert refused.error_code == ErrorCode.KAFKA_STORAGE_ERROR and refused.base_offset == -1
                assert "log dir is full" in refused.error_message and "No space left on device" in refused.error_message
            assert await fetch_values(client) == (ErrorCode.NONE, [b"before"])
            metadata = await client.call(METADATA, 8, MetadataRequest(topics=None, include_cluster_authorized_operations=False,
                                                                       include_topic_authorized_operations=False), 10)
            assert [topic.error_code for topic in metadata.topics] == [ErrorCode.NONE]

            disk.heal()
            accepted = await produce(client, b"after")
            assert (accepted.error_code, accepted.base_offset) == (ErrorCode.NONE, 1)
            assert await fetch_values(client) == (ErrorCode.NONE, [b"before", b"after"])
            assert halts == []
        async with serving(tmp_path / "data", halts) as (_, client):
            assert await fetch_values(client) == (ErrorCode.NONE, [b"before", b"after"])

    asyncio.run(scenario())


def test_an_io_error_in_a_produce_halts_the_broker_unanswered_and_nothing_is_served(tmp_path, monkeypatch, caplog) -> None:
    async def scenario() -> None:
        halts: list[int] = []
        async with serving(tmp_path / "data", halts) as (broker, client):
            assert (await produce(client, b"whole")).error_code == ErrorCode.NONE
            disk = Disk(tmp_path / "data", budget=30, budget_error=errno.EIO).install(monkeypatch)
            with caplog.at_level(logging.ERROR, logger="cluster.broker"):
                answer = await produce(client, b"torn" * 40)

            assert halts == [1], "halted with exit code 1"
            assert SHUTDOWN_LINE in caplog.text and str(tmp_path / "data") in caplog.text
            assert answer.error_code != ErrorCode.NONE, "(a real halt never answers; here the halt returned)"
            assert (await fetch_values(client))[0] == ErrorCode.KAFKA_STORAGE_ERROR, "the offline log serves nothing"
            disk.heal()
        async with serving(tmp_path / "data", []) as (_, client):
            assert await fetch_values(client) == (ErrorCode.NONE, [b"whole"]), "the torn batch was cut at the start"

    asyncio.run(scenario())


def test_an_io_error_met_by_the_flush_task_halts_the_broker(tmp_path, monkeypatch, caplog) -> None:
    async def scenario() -> None:
        halts: list[int] = []
        async with serving(tmp_path / "data", halts, **{"log.flush.interval.ms": "500"}) as (_, client):
            await produce(client, b"first", acks=1)  # its leader epoch is checkpointed (an fsync) now
            Disk(tmp_path / "data", fsync_error=errno.EIO).install(monkeypatch)
            with caplog.at_level(logging.ERROR, logger="cluster.broker"):
                assert (await produce(client, b"unflushed", acks=1)).error_code == ErrorCode.NONE
                assert halts == [], "the produce itself did not flush"
                for _ in range(50):  # the flush task runs every second; the flush is due 500 ms after the last
                    if halts:
                        break
                    await asyncio.sleep(0.1)
            assert halts == [1] and SHUTDOWN_LINE in caplog.text and "flushing" in caplog.text
            monkeypatch.undo()

    asyncio.run(scenario())


def test_an_io_error_met_by_a_followers_append_or_a_checkpoint_write_halts_the_broker(tmp_path, monkeypatch) -> None:
    halts: list[int] = []
    failure = LogDirFailure(tmp_path, halt=halts.append)
    log = PartitionLog.open(tmp_path / "t-0", LogConfig(), on_failure=failure)
    follower = Partition("t", 0, log, broker_id=2, replication=ReplicationConfig())
    state = PartitionState(leader=1, leader_epoch=3, isr=(1, 2), controller_epoch=1, version=0)
    [fetch] = follower.driver.run(follower.replica.apply_state(state, (1, 2), 0), 0)
    batch = build_batch([Record(offset=0, timestamp=1_700_000_000_000, value=b"a")])
    batch[12:16] = (3).to_bytes(4, "big")
    disk = Disk(tmp_path, failing_suffix=(".tmp", errno.EIO)).install(monkeypatch)  # the leader-epoch checkpoint

    answer = FetchResponse(fetch.request.correlation, ErrorCode.NONE, 1, 0, 1, bytes(batch))
    follower.driver.run(follower.replica.on_fetch_response(answer, 1), 1)

    assert halts == [1] and isinstance(log.failure, LogDirFailedError)
    disk.heal()
    log.close()


def test_a_broker_process_whose_disk_fails_mid_write_exits_1_and_restarts_with_only_whole_batches(tmp_path) -> None:
    """A real failing write in a real broker: a file-size limit (RLIMIT_FSIZE) cuts the segment write
    short and fails the rest with EFBIG, as a disk error would after part of the data landed."""
    broker = BrokerProcess(tmp_path / "data").start()
    try:
        acknowledged = _produce(broker.bootstrap, [b"%04d" % i + b"." * 10_000 for i in range(60)])
        assert len(acknowledged) == 60
        segment = tmp_path / "data" / f"{TOPIC}-0" / "00000000000000000000.log"
        limit = segment.stat().st_size + 3_000
        resource.prlimit(broker.pid, resource.RLIMIT_FSIZE, (limit, limit))

        assert _produce(broker.bootstrap, [b"torn" + b"." * 10_000], timeout_ms=5_000) == []

        assert broker.stop() == 1 and SHUTDOWN_LINE in broker.log_text()
        assert segment.stat().st_size == limit, "a torn batch was left behind"
        broker.start()
        assert _consume(broker.bootstrap, 60) == acknowledged
        assert broker.stop() == 0
        entries = list(dump.walk(segment.read_bytes()))
        assert all(isinstance(entry, dump.FramedBatch) and entry.valid for entry in entries)
        assert sum(entry.header.records_count for entry in entries) == 60
        assert "the log is truncated there" in broker.log_text()
    finally:
        broker.kill()


def _produce(bootstrap: str, values: list[bytes], timeout_ms: int = 30_000) -> list[bytes]:
    """The values the broker acknowledged (acks=all, no retries across the failure)."""
    acknowledged: list[bytes] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0,
                         "message.timeout.ms": timeout_ms, "enable.idempotence": False})
    for value in values:
        producer.produce(TOPIC, value, partition=0,
                         on_delivery=lambda error, message: error is None and acknowledged.append(message.value()))
        producer.poll(0)
    producer.flush(timeout_ms / 1000 + 10)
    return acknowledged


def _consume(bootstrap: str, expected: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "disk", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(values) < expected and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value())
    consumer.close()
    return values
