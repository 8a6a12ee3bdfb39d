"""LogConfig speaks Kafka's property names, units and precedence, and names what it rejects."""

from __future__ import annotations

import pytest

from cluster.broker.log import LogConfig
from cluster.broker.log.config import NEVER, PROPERTY_NAMES, TimestampType


def test_defaults_are_kafkas() -> None:
    config = LogConfig()

    assert config.segment_bytes == 1 << 30
    assert config.segment_ms == config.retention_ms == 7 * 24 * 3_600_000
    assert (config.index_interval_bytes, config.retention_bytes, config.max_message_bytes) == (4096, -1, 1_048_588)
    assert config.flush_interval_messages == config.flush_interval_ms == NEVER == 2**63 - 1


def test_broker_properties_with_their_units() -> None:
    config = LogConfig.from_properties(
        {
            "log.segment.bytes": "1048576",
            "log.roll.hours": "2",
            "log.retention.minutes": "30",
            "log.retention.bytes": "-1",
            "log.index.interval.bytes": 512,
            "message.max.bytes": " 2000 ",
            "log.flush.interval.messages": "10",
            "log.flush.interval.ms": "250",
        }
    )

    assert config == LogConfig(
        segment_bytes=1_048_576, segment_ms=7_200_000, retention_ms=1_800_000, retention_bytes=-1,
        index_interval_bytes=512, max_message_bytes=2000, flush_interval_messages=10, flush_interval_ms=250,
    )


def test_topic_properties_beat_broker_ones_and_ms_beats_hours() -> None:
    config = LogConfig.from_properties(
        {
            "log.retention.hours": "1",
            "log.retention.ms": "5000",
            "retention.ms": "-1",
            "log.segment.bytes": "100000",
            "segment.bytes": "200000",
            "log.roll.ms": "60000",
            "log.roll.hours": "5",
            "flush.messages": "3",
            "log.flush.interval.messages": "9",
        }
    )

    assert (config.retention_ms, config.segment_bytes, config.segment_ms, config.flush_interval_messages) == (
        -1, 200_000, 60_000, 3,
    )


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"log.segment.bytes": "big"}, "property log.segment.bytes must be an integer, got 'big'"),
        ({"segment.ms": True}, "property segment.ms must be an integer"),
        ({"retention.bytes": 1.5}, "property retention.bytes must be an integer"),
        ({"log.segment.bytes": str(2**31)}, "property log.segment.bytes must be between"),
        ({"segment.bytes": "10"}, "property segment.bytes must be between 61"),
        ({"log.retention.hours": "-2"}, "property log.retention.hours must be -1 or non-negative"),
        ({"flush.messages": "0"}, "property flush.messages must be between 1"),
        ({"log.dirs": "/tmp/x"}, "unknown log property: log.dirs"),
        ({"segment.byte": "1", "retention": "2"}, "unknown log properties: retention, segment.byte"),
    ],
)
def test_bad_properties_are_rejected_by_name(properties: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        LogConfig.from_properties(properties)


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(ValueError, match="index_interval_bytes must be between 0"):
        LogConfig(index_interval_bytes=-5)


def test_every_documented_property_is_understood() -> None:
    assert PROPERTY_NAMES == {
        "log.segment.bytes", "segment.bytes", "log.roll.ms", "log.roll.hours", "segment.ms",
        "log.retention.ms", "log.retention.minutes", "log.retention.hours", "retention.ms",
        "log.retention.bytes", "retention.bytes", "log.index.interval.bytes", "index.interval.bytes",
        "message.max.bytes", "max.message.bytes", "log.flush.interval.messages", "flush.messages",
        "log.flush.interval.ms", "flush.ms", "log.message.timestamp.type", "message.timestamp.type",
    }


def test_the_timestamp_type_is_create_time_unless_a_topic_or_the_broker_says_log_append_time() -> None:
    assert LogConfig().timestamp_type is TimestampType.CREATE_TIME
    assert LogConfig.from_properties({"log.message.timestamp.type": " LogAppendTime "}).timestamp_type is TimestampType.LOG_APPEND_TIME
    topic_wins = LogConfig.from_properties({"log.message.timestamp.type": "LogAppendTime", "message.timestamp.type": "CreateTime"})
    assert topic_wins.timestamp_type is TimestampType.CREATE_TIME


@pytest.mark.parametrize("name", ["log.message.timestamp.type", "message.timestamp.type"])
@pytest.mark.parametrize("value", ["logappendtime", "Append", "", 1])
def test_a_timestamp_type_is_one_of_kafkas_two_names_exactly(name: str, value: object) -> None:
    expected = f"Invalid value {str(value).strip()} for configuration {name}: String must be one of: CreateTime, LogAppendTime"
    with pytest.raises(ValueError) as raised:
        LogConfig.from_properties({name: value})
    assert str(raised.value) == expected
