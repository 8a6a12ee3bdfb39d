"""Log settings with Kafka's names, meanings and defaults.

Operators already know Kafka's properties, so the log takes them as they are
written in server.properties (broker level) or topic configs (topic level),
and topic-level values win, exactly as in Kafka.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping

from cluster import config_values
from cluster.broker.protocol.record_batch import HEADER_SIZE

NEVER = 2**63 - 1
"""Kafka's Long.MAX_VALUE: the flush intervals' default, meaning 'leave it to the OS'."""
UNLIMITED = -1
MAX_SEGMENT_BYTES = 2**31 - 1
"""Index entries store file positions as int32."""



class TimestampType(enum.Enum):
    """Whose clock a record's timestamp is: the producer's (CreateTime) or the leader's at append (LogAppendTime)."""

    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000
_WEEK_MS = 7 * 24 * _HOUR_MS

# field name -> property names in increasing precedence (Kafka: topic beats broker; ms beats hours).
_SOURCES: dict[str, tuple[tuple[str, int], ...]] = {
    "segment_bytes": (("log.segment.bytes", 1), ("segment.bytes", 1)),
    "segment_ms": (("log.roll.hours", _HOUR_MS), ("log.roll.ms", 1), ("segment.ms", 1)),
    "index_interval_bytes": (("log.index.interval.bytes", 1), ("index.interval.bytes", 1)),
    "retention_ms": (
        ("log.retention.hours", _HOUR_MS),
        ("log.retention.minutes", _MINUTE_MS),
        ("log.retention.ms", 1),
        ("retention.ms", 1),
    ),
    "retention_bytes": (("log.retention.bytes", 1), ("retention.bytes", 1)),
    "max_message_bytes": (("message.max.bytes", 1), ("max.message.bytes", 1)),
    "flush_interval_messages": (("log.flush.interval.messages", 1), ("flush.messages", 1)),
    "flush_interval_ms": (("log.flush.interval.ms", 1), ("flush.ms", 1)),
}

_RANGES: dict[str, tuple[int, int]] = {
    "segment_bytes": (HEADER_SIZE, MAX_SEGMENT_BYTES),
    "segment_ms": (1, NEVER),
    "index_interval_bytes": (0, MAX_SEGMENT_BYTES),
    "retention_ms": (UNLIMITED, NEVER),
    "retention_bytes": (UNLIMITED, NEVER),
    "max_message_bytes": (HEADER_SIZE, MAX_SEGMENT_BYTES),
    "flush_interval_messages": (1, NEVER),
    "flush_interval_ms": (0, NEVER),
}

_TIMESTAMP_TYPE_SOURCES = ("log.message.timestamp.type", "message.timestamp.type")
"""Broker, then topic: the topic's wins."""

PROPERTY_NAMES = frozenset(name for sources in _SOURCES.values() for name, _ in sources) | frozenset(_TIMESTAMP_TYPE_SOURCES)
"""Every property from_properties understands; a broker passes the subset it holds."""


@dataclass(frozen=True, slots=True)
class LogConfig:
    segment_bytes: int = 1 << 30
    segment_ms: int = _WEEK_MS
    index_interval_bytes: int = 4096
    retention_ms: int = _WEEK_MS
    retention_bytes: int = UNLIMITED
    max_message_bytes: int = 1_048_588
    flush_interval_messages: int = NEVER
    flush_interval_ms: int = NEVER
    timestamp_type: TimestampType = TimestampType.CREATE_TIME

    def __post_init__(self) -> None:
        for field_name, (low, high) in _RANGES.items():
            _check_range(field_name, getattr(self, field_name), low, high)
        if not isinstance(self.timestamp_type, TimestampType):
            raise ValueError(f"timestamp_type must be a TimestampType, got {self.timestamp_type!r}")

    @classmethod
    def from_properties(cls, properties: Mapping[str, object]) -> LogConfig:
        """Builds a config from Kafka property names (strings as in a .properties file, or ints)."""
        unknown = sorted(set(properties) - PROPERTY_NAMES)
        if unknown:
            raise ValueError(f"unknown log propert{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for field_name, sources in _SOURCES.items():
            for name, unit_ms in sources:
                if name in properties:
                    value = _scaled(name, config_values.integer(name, properties[name]), unit_ms)
                    _check_range(f"property {name}", value, *_RANGES[field_name])
                    values[field_name] = value
        for name in _TIMESTAMP_TYPE_SOURCES:
            if name in properties:
                values["timestamp_type"] = _timestamp_type(name, properties[name])
        return cls(**values)


def _timestamp_type(name: str, value: object) -> TimestampType:
    """Kafka's ValidString: the value trimmed, then exactly one of the names (case counts), in Kafka's words."""
    text = value.strip() if isinstance(value, str) else value
    for choice in TimestampType:
        if text == choice.value:
            return choice
    names = ", ".join(choice.value for choice in TimestampType)
    raise ValueError(f"Invalid value {text} for configuration {name}: String must be one of: {names}")


def _scaled(name: str, value: int, unit_ms: int) -> int:
    """Hours and minutes become milliseconds; -1 keeps meaning 'unlimited'."""
    if unit_ms == 1 or value == UNLIMITED:
        return value
    if value < 0:
        raise ValueError(f"property {name} must be -1 or non-negative, got {value}")
    return min(value * unit_ms, NEVER)


def _check_range(field_name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field_name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{field_name} must be between {low} and {high}, got {value}")
