"""RecordBatch v2 headers: the unit of storage and transfer.

A batch travels on the wire, sits in a segment file and goes back out through
sendfile as the same bytes. Only the 61-byte header is ever interpreted on the
hot path; records stay opaque (and possibly compressed). baseOffset and
partitionLeaderEpoch lie outside the CRC, so a leader stamps them in place
without touching the records or recomputing the checksum.
"""

from __future__ import annotations

import enum
import struct
from typing import Iterator, NamedTuple

import crc32c

MAGIC = 2
HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size
LOG_OVERHEAD = 12
"""Bytes before the length-counted part of a batch: baseOffset and batchLength."""
CRC_START = 21
MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD

_OFFSET_AND_LENGTH = struct.Struct(">qi")
_BASE_OFFSET = struct.Struct(">q")
_LEADER_EPOCH = struct.Struct(">i")
_CRC = struct.Struct(">I")
_ATTRIBUTES = struct.Struct(">h")
_MAX_TIMESTAMP = struct.Struct(">q")
_EPOCH_AT = 12
_MAGIC_AT = 16
_CRC_AT = 17
_ATTRIBUTES_AT = 21
_MAX_TIMESTAMP_AT = 35

_COMPRESSION_MASK = 0x07
_TIMESTAMP_TYPE_BIT = 0x08
_TRANSACTIONAL_BIT = 0x10
_CONTROL_BIT = 0x20


class Compression(enum.IntEnum):
    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


_HIGHEST_CODEC = int(max(Compression))


class CorruptBatchError(ValueError):
    """The bytes at a position are not a valid v2 batch; `position` says where."""

    def __init__(self, reason: str, position: int = 0) -> None:
        super().__init__(f"corrupt record batch at byte {position}: {reason}")
        self.reason = reason
        self.position = position


class BatchHeader(NamedTuple):
    """The 61 header bytes as named fields; a tuple because a batch is parsed on every append and read."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int

    @classmethod
    def parse(cls, buf: bytes | bytearray | memoryview, position: int = 0) -> BatchHeader:
        """Reads the header fields without any validation."""
        return cls._make(HEADER.unpack_from(buf, position))

    @property
    def size(self) -> int:
        """Total bytes of the batch, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    @property
    def compression(self) -> Compression:
        return Compression(self.attributes & _COMPRESSION_MASK)

    @property
    def uses_log_append_time(self) -> bool:
        return bool(self.attributes & _TIMESTAMP_TYPE_BIT)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & _TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & _CONTROL_BIT)

    @property
    def is_idempotent(self) -> bool:
        return self.producer_id >= 0


def attributes_for(compression: Compression, transactional: bool = False, control: bool = False) -> int:
    """The attributes field of a CreateTime batch with these properties."""
    return compression | (_TRANSACTIONAL_BIT if transactional else 0) | (_CONTROL_BIT if control else 0)


def crc_of(buf: bytes | bytearray | memoryview, position: int = 0, size: int | None = None) -> int:
    """CRC-32C over the checksummed part of the batch at `position`."""
    if size is None:
        size = BatchHeader.parse(buf, position).size
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    return crc32c.crc32c(view[position + CRC_START : position + size])


def peek_size(buf: bytes | bytearray | memoryview, position: int = 0) -> int | None:
    """Total size of the batch starting at `position`, or None if its length field is incomplete."""
    if len(buf) - position < LOG_OVERHEAD:
        return None
    _, batch_length = _OFFSET_AND_LENGTH.unpack_from(buf, position)
    return batch_length + LOG_OVERHEAD


def validate(
    buf: bytes | bytearray | memoryview, position: int = 0, max_size: int | None = None, check_crc: bool = True
) -> BatchHeader:
    """Checks framing, magic and CRC of the batch at `position` and returns its header.

    Raises CorruptBatchError naming the first problem found; nothing beyond the
    header is decoded, so compressed batches cost the same as plain ones. Every
    append runs this, so the fields are unpacked once and all framing checks
    share one test; only a failing batch pays for finding out which one failed.
    `check_crc=False` is for bytes whose CRC is checked elsewhere (the log checks
    every batch it appends): the CRC is most of the cost.
    """
    available = len(buf) - position
    if available < HEADER_SIZE:
        raise CorruptBatchError(f"only {available} bytes, a header needs {HEADER_SIZE}", position)
    fields = HEADER.unpack_from(buf, position)
    _, batch_length, _, magic, crc, attributes, last_offset_delta, _, _, _, _, _, records_count = fields
    size = batch_length + LOG_OVERHEAD
    if (
        batch_length < MIN_BATCH_LENGTH
        or magic != MAGIC
        or size > available
        or (max_size is not None and size > max_size)
        or attributes & _COMPRESSION_MASK > _HIGHEST_CODEC
        or last_offset_delta < 0
        or records_count < 0
    ):
        raise _framing_error(BatchHeader._make(fields), available, max_size, position)
    if not check_crc:
        return tuple.__new__(BatchHeader, fields)
    actual = crc_of(buf, position, size)
    if actual != crc:
        raise CorruptBatchError(f"CRC-32C {actual:#010x} does not match stored {crc:#010x}", position)
    return tuple.__new__(BatchHeader, fields)


def _framing_error(header: BatchHeader, available: int, max_size: int | None, position: int) -> CorruptBatchError:
    """The first framing rule `header` breaks, in the order validate() promises to report them."""
    if header.batch_length < MIN_BATCH_LENGTH:
        return CorruptBatchError(f"batch length {header.batch_length} is below the minimum", position)
    if header.magic != MAGIC:
        return CorruptBatchError(f"magic {header.magic}, expected {MAGIC}", position)
    if max_size is not None and header.size > max_size:
        return CorruptBatchError(f"batch of {header.size} bytes exceeds the limit of {max_size}", position)
    if header.size > available:
        return CorruptBatchError(f"batch of {header.size} bytes but only {available} present", position)
    if header.attributes & _COMPRESSION_MASK > _HIGHEST_CODEC:
        return CorruptBatchError(f"unknown compression codec {header.attributes & _COMPRESSION_MASK}", position)
    return CorruptBatchError("negative record count or offset delta", position)


def iter_batches(
    buf: bytes | bytearray | memoryview, start: int = 0, check_crc: bool = True
) -> Iterator[tuple[int, BatchHeader]]:
    """Yields (position, header) of each valid batch; raises at the first invalid one."""
    position = start
    while position < len(buf):
        header = validate(buf, position, check_crc=check_crc)
        yield position, header
        position += header.size


def stamp(buf: bytearray | memoryview, position: int, base_offset: int, leader_epoch: int) -> None:
    """Assigns the batch its offset and leader epoch in place; the CRC stays valid."""
    _BASE_OFFSET.pack_into(buf, position, base_offset)
    _LEADER_EPOCH.pack_into(buf, position + _EPOCH_AT, leader_epoch)


def stamp_log_append_time(buf: bytearray | memoryview, position: int, timestamp: int) -> None:
    """Kafka's setMaxTimestamp(LOG_APPEND_TIME, timestamp): a leader of a LogAppendTime topic marks
    the batch and gives it its clock's time; both fields are checksummed, so the CRC is recomputed.
    (The log does this in its compiled scan; this is the reference its tests compare with.)"""
    attributes = _ATTRIBUTES.unpack_from(buf, position + _ATTRIBUTES_AT)[0] | _TIMESTAMP_TYPE_BIT
    _ATTRIBUTES.pack_into(buf, position + _ATTRIBUTES_AT, attributes)
    _MAX_TIMESTAMP.pack_into(buf, position + _MAX_TIMESTAMP_AT, timestamp)
    _CRC.pack_into(buf, position + _CRC_AT, crc_of(buf, position))


def magic_of(buf: bytes | bytearray | memoryview, position: int = 0) -> int:
    return buf[position + _MAGIC_AT]
