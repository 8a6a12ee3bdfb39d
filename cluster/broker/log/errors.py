"""What the log tells its callers when it must refuse.

Each error is a ValueError subclass with a message a broker can pass on, and
maps onto one Kafka error code, so the protocol layer can answer without
parsing messages.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


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


class StorageError(LogError):
    """The log's files cannot do what was asked (Kafka KAFKA_STORAGE_ERROR, 56, which clients retry)."""


class CorruptLogError(StorageError):
    """Stored data failed validation; nothing at or after `offset` is served."""

    def __init__(self, corruption: Corruption) -> None:
        super().__init__(
            f"log corrupt at offset {corruption.offset}: {corruption.segment} byte {corruption.position}: "
            f"{corruption.reason}"
        )
        self.corruption = corruption


class LogDirFullError(StorageError):
    """The disk was full (ENOSPC, EDQUOT): the operation was undone, and the same request may succeed
    once space returns."""


class LogDirFailedError(StorageError):
    """Any other I/O error: the files may no longer be what the log believes (a write may be torn, a
    failed fsync may have dropped dirty pages), so the log is offline from then on, as Kafka takes
    the whole log dir offline."""

    def __init__(self, directory: Path, doing: str, error: OSError) -> None:
        super().__init__(f"{doing} in {directory} failed: {error.strerror or error}")
        self.directory = directory
        self.doing = doing
        self.error = error


def is_disk_full(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def storage_error(directory: Path, doing: str, error: OSError) -> StorageError:
    """The log's error for an OSError met while `doing` something in the partition `directory`."""
    if is_disk_full(error):
        return LogDirFullError(f"the log dir is full ({error.strerror or error}): {doing} in {directory} was undone")
    return LogDirFailedError(directory, doing, error)


def failed_fsync(error: OSError, what: str) -> OSError:
    """A failed fsync is an I/O error whatever its errno (ENOSPC included): the kernel may have
    dropped the dirty pages it could not write, so what is on disk is no longer known."""
    return OSError(errno.EIO, f"fsync of {what} failed: {error.strerror or error}")
