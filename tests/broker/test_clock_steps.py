"""A broker whose wall clock steps, read back by real clients (kafka-python, kcat).

What the wall clock decides: LogAppendTime stamps, lookups by timestamp over them and retention.ms.
What it must not: a group member's session. The broker runs in this process with an injected
wall clock (tests/broker/in_process.py); its monotonic clock is the real one, as with a real step.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import InvalidConfigurationError
from kafka.structs import OffsetAndMetadata

from cluster.broker.peer_client import PeerConnection
from cluster.broker.protocol.apis import fetch as wire_fetch
from cluster.broker.protocol.errors import ErrorCode
from tests.broker.in_process import BrokerThread, SteppedClock
from tests.kafka_groups import wait_for_assignment
from tests.polling import WAIT_S, wait_until
from tests.facilities import require_program

HOUR_MS = 3_600_000
LOG_APPEND_TIME = 1
"""kafka-python's ConsumerRecord.timestamp_type for LogAppendTime."""


def create_topic(bootstrap: str, name: str, **configs: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, 1, 1, topic_configs=configs)])
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, values: list[bytes], timestamp_ms: int | None = None) -> list[int]:
    """The timestamps the producer was told, one per record (the broker's log append time, if it stamped one)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        futures = [producer.send(topic, value=value, timestamp_ms=timestamp_ms) for value in values]
        return [future.get(timeout=WAIT_S).timestamp for future in futures]
    finally:
        producer.close()


def read_records(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, 0)])
    records: list[Any] = []
    try:
        wait_until(lambda: records.extend(r for batch in consumer.poll(timeout_ms=200).values() for r in batch)
                   or len(records) >= count, f"{count} records of {topic}")
        return records
    finally:
        consumer.close()


def kcat_offset_for_time(bootstrap: str, topic: str, timestamp: int) -> int:
    """librdkafka's lookup by timestamp (kcat -o s@TS): the offset of the first record it then reads."""
    out = subprocess.run(
        [require_program("kcat"), "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", f"s@{timestamp}", "-c", "1", "-e", "-f", "%o\n"],
        capture_output=True, text=True, timeout=WAIT_S, check=True,
    )
    return int(out.stdout.split()[0])


def test_log_append_time_comes_from_the_leaders_clock_and_lookups_stay_first_at_or_after_when_it_goes_back(tmp_path):
    clock = SteppedClock()
    with BrokerThread(tmp_path / "data", clock) as broker:
        create_topic(broker.bootstrap, "appended", **{"message.timestamp.type": "LogAppendTime"})
        told = produce(broker.bootstrap, "appended", [b"a", b"b", b"c"], timestamp_ms=1)
        clock.step(-HOUR_MS)
        told += produce(broker.bootstrap, "appended", [b"d", b"e"], timestamp_ms=1)
        clock.step(2 * HOUR_MS)
        told += produce(broker.bootstrap, "appended", [b"f"], timestamp_ms=1)

        records = read_records(broker.bootstrap, "appended", 6)
        stored = [record.timestamp for record in records]
        assert [record.timestamp_type for record in records] == [LOG_APPEND_TIME] * 6
        assert stored == told, "the producer was told the time the leader stamped"
        assert stored[3] < stored[2] < stored[5], "the clock went back an hour, then two forward"
        assert 1 not in stored, "the producer's CreateTime is replaced"

        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        partition = TopicPartition("appended", 0)
        for target in sorted({t + d for t in stored for d in (-1, 0, 1)}):
            expected = next((offset for offset, t in enumerate(stored) if t >= target), None)
            found = consumer.offsets_for_times({partition: target})[partition]
            answer = None if found is None else (found.offset, found.timestamp)
            assert answer == (None if expected is None else (expected, stored[expected])), f"target {target}"
        consumer.close()
        assert kcat_offset_for_time(broker.bootstrap, "appended", stored[3]) == 0, "offset 0 is later than the step back"
        assert kcat_offset_for_time(broker.bootstrap, "appended", stored[2] + 1) == 5


def test_create_time_keeps_the_producers_timestamps_and_a_bad_timestamp_type_is_refused(tmp_path):
    with BrokerThread(tmp_path / "data", SteppedClock()) as broker:
        with pytest.raises(InvalidConfigurationError, match="String must be one of: CreateTime, LogAppendTime"):
            create_topic(broker.bootstrap, "bad", **{"message.timestamp.type": "logappendtime"})
        create_topic(broker.bootstrap, "created")
        assert produce(broker.bootstrap, "created", [b"a"], timestamp_ms=1234) == [1234]
        assert [r.timestamp for r in read_records(broker.bootstrap, "created", 1)] == [1234]


def test_a_clock_stepped_past_retention_ms_deletes_the_log_and_a_fetch_below_its_new_start_is_out_of_range(tmp_path):
    clock = SteppedClock()
    with BrokerThread(tmp_path / "data", clock, **{"log.retention.check.interval.ms": "100"}) as broker:
        create_topic(broker.bootstrap, "kept", **{"retention.ms": str(HOUR_MS), "segment.bytes": "500"})
        produce(broker.bootstrap, "kept", [b"x" * 100] * 12)
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="kept-readers", enable_auto_commit=False,
                                 auto_offset_reset="earliest")
        partition = TopicPartition("kept", 0)
        consumer.assign([partition])
        consumer.commit({partition: OffsetAndMetadata(3)})
        assert consumer.beginning_offsets([partition])[partition] == 0

        clock.step(2 * HOUR_MS)

        wait_until(lambda: consumer.beginning_offsets([partition])[partition] == 12, "the log start moved to its end")
        assert asyncio.run(fetch_error(broker.bootstrap, "kept", 0)) == ErrorCode.OFFSET_OUT_OF_RANGE
        offsets_start = broker.read(lambda b: b.topics.partition("__consumer_offsets", 0).log.log_start_offset)
        assert offsets_start == 0, "commits are never deleted by time, as in Kafka's compacted offsets topic"
        assert consumer.committed(partition) == 3
        consumer.seek(partition, 0)
        # stamped by the broker's clock: a record stamped by the producer's would be hours past retention.ms
        # there, and retention could delete it before the consumer reads it
        produce(broker.bootstrap, "kept", [b"after"], timestamp_ms=clock())
        polled = wait_until(lambda: consumer.poll(timeout_ms=200).get(partition), "the record after the deletion")
        assert [(r.offset, r.value) for r in polled] == [(12, b"after")], "out of range: reset to the new earliest"
        consumer.close()


def test_a_wall_clock_step_expires_no_group_member(tmp_path):
    clock = SteppedClock()
    with BrokerThread(tmp_path / "data", clock) as broker:
        create_topic(broker.bootstrap, "grouped")
        consumer = KafkaConsumer("grouped", bootstrap_servers=broker.bootstrap, group_id="steady",
                                 session_timeout_ms=6_000, heartbeat_interval_ms=300)
        wait_for_assignment(consumer, ["grouped"])
        members = broker.read(lambda b: b.groups.describe("steady").members)

        for step in (HOUR_MS, -2 * HOUR_MS):
            clock.step(step)
            polling_until = time.monotonic() + 2  # many group ticks and heartbeats: a wall-clock expiry would fire at once
            while time.monotonic() < polling_until:
                consumer.poll(timeout_ms=100)

        after = broker.read(lambda b: b.groups.describe("steady"))
        assert (after.state, after.members) == ("Stable", members), "the same member, never expired"
        consumer.close()


async def fetch_error(bootstrap: str, topic: str, offset: int) -> ErrorCode:
    host, port = bootstrap.split(":")
    client = PeerConnection(host, int(port), 1 << 20)
    body = wire_fetch.FetchRequest(
        replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1,
        topics=[wire_fetch.FetchTopic(topic=topic, partitions=[wire_fetch.FetchPartition(
            partition=0, current_leader_epoch=-1, fetch_offset=offset, log_start_offset=-1, partition_max_bytes=1 << 20)])],
        forgotten_topics_data=[], rack_id="",
    )
    try:
        return ErrorCode((await client.call(wire_fetch.FETCH, 11, body, 10)).responses[0].partitions[0].error_code)
    finally:
        client.close()
