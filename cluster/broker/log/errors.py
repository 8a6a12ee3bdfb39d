"""What the log tells its callers when it must refuse.

Each error is a ValueError subclass with a message a broker can pass on, and
maps onto one Kafka error code, so the protocol layer can answer without
parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Corruption:
    """Where stored data first failed validation: the log serves nothing from `offset` on."""

    segment: str
    position: int
    offset: int
    reason: str


class LogError(ValueError):
    """Base of every refusal the partition log raises."""


class OffsetOutOfRangeError(LogError):
    """A read below the log start or above the log end (Kafka OFFSET_OUT_OF_RANGE, 1)."""

    def __init__(self, offset: int, log_start_offset: int, log_end_offset: int) -> None:
        super().__init__(
            f"offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]"
        )
        self.offset = offset
        self.log_start_offset = log_start_offset
        self.log_end_offset = log_end_offset


class InvalidBatchError(LogError):
    """An append carried bytes that are not valid v2 batches (Kafka CORRUPT_MESSAGE, 2)."""


class BatchTooLargeError(LogError):
    """A batch over max.message.bytes (Kafka MESSAGE_TOO_LARGE, 10)."""


class NonContiguousAppendError(LogError):
    """A follower append whose offsets do not continue the log (Kafka UNEXPECTED / OUT_OF_ORDER)."""


class CorruptLogError(LogError):
    """Stored data failed validation; nothing at or after `offset` is served (Kafka KAFKA_STORAGE_ERROR, 56)."""

    def __init__(self, corruption: Corruption) -> None:
        super().__init__(
            f"log corrupt at offset {corruption.offset}: {corruption.segment} byte {corruption.position}: "
            f"{corruption.reason}"
        )
        self.corruption = corruption
