"""The records inside a RecordBatch v2: decoding them and building batches from them.

The broker's hot path never looks inside a batch (see record_batch). Records
are decoded only where their contents matter: timestamp lookups, the group
coordinator reading __consumer_offsets, `logquake log dump`, and tests. Batches
are built by the broker for its own records, by the simulator and by the
benchmarks, in the same shape the Java producer writes (CreateTime,
baseTimestamp = first record's timestamp).

Header keys are UTF-8 in Kafka, but the Java reader never rejects bad UTF-8;
they are decoded with `surrogateescape` so any key round-trips byte for byte.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from cluster.broker.protocol.compression import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    Buffer,
    CompressionError,
    compress,
    decompress,
)
from cluster.broker.protocol.record_batch import (
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC,
    BatchHeader,
    Compression,
    CorruptBatchError,
    attributes_for,
    crc_of,
    validate,
)
from cluster.broker.protocol.varint import VarintError, decode_varint, decode_varlong, encode_varint, encode_varlong

Header = tuple[str, bytes | None]
_NULL = encode_varint(-1)


@dataclass(frozen=True, slots=True)
class Record:
    """One record with its absolute offset and timestamp, as a consumer sees it."""

    offset: int
    timestamp: int
    key: bytes | None = None
    value: bytes | None = None
    headers: list[Header] = field(default_factory=list)


class _Malformed(ValueError):
    """A problem inside the records; decode_body adds the batch position."""


def decode_records(
    buf: Buffer, position: int = 0, *, max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE
) -> list[Record]:
    """Validates the batch at `position` (framing, magic, CRC) and returns its records.

    Any problem, in the header or inside the records, raises CorruptBatchError
    naming the batch position.
    """
    header = validate(buf, position)
    body = memoryview(buf)[position + HEADER_SIZE : position + header.size]
    return decode_body(header, body, position=position, max_decompressed_size=max_decompressed_size)


def decode_body(
    header: BatchHeader,
    body: Buffer,
    *,
    position: int = 0,
    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
) -> list[Record]:
    """Decodes the bytes after a batch header, trusting the header as given.

    For callers that checked the header themselves, or that want to look at a
    batch whose CRC failed (`log dump` does, and says so).
    """
    try:
        codec = header.compression
    except ValueError:
        raise CorruptBatchError(f"attributes {header.attributes:#06x} name an unknown compression codec", position) from None
    try:
        return _parse(header, decompress(codec, body, max_decompressed_size))
    except (_Malformed, VarintError, CompressionError) as error:
        raise CorruptBatchError(str(error), position) from None


def _parse(header: BatchHeader, view: memoryview) -> list[Record]:
    data = bytes(view)  # one copy: slicing bytes is several times faster than slicing a memoryview
    base_offset = header.base_offset
    base_timestamp = header.base_timestamp
    log_append_time = header.max_timestamp if header.uses_log_append_time else None
    records = []
    position = 0
    for index in range(header.records_count):
        length, position = decode_varint(data, position)
        end = position + length
        if length < 0 or end > len(data):
            raise _Malformed(f"record {index} claims {length} bytes, {len(data) - position} remain")
        timestamp_delta, position = decode_varlong(data, position + 1)  # + 1: the unused attributes byte
        offset_delta, position = decode_varint(data, position)
        key, position = _read_bytes(data, position, end)
        value, position = _read_bytes(data, position, end)
        headers, position = _read_headers(data, position, end)
        if position != end:
            raise _Malformed(f"record {index} claims {length} bytes but its fields end {position - end:+d} bytes off")
        timestamp = base_timestamp + timestamp_delta if log_append_time is None else log_append_time
        records.append(Record(base_offset + offset_delta, timestamp, key, value, headers))
    if position != len(data):
        raise _Malformed(f"{len(data) - position} bytes remain after the {header.records_count} records the header counts")
    return records


def _read_bytes(data: bytes, position: int, end: int) -> tuple[bytes | None, int]:
    length, position = decode_varint(data, position)
    if length < -1 or position + max(length, 0) > end:
        raise _Malformed(f"field of length {length} at byte {position} overruns its record")
    if length == -1:
        return None, position
    return data[position : position + length], position + length


def _read_headers(data: bytes, position: int, end: int) -> tuple[list[Header], int]:
    count, position = decode_varint(data, position)
    if count < 0:
        raise _Malformed(f"negative header count {count}")
    headers = []
    for _ in range(count):
        key, position = _read_bytes(data, position, end)
        if key is None:
            raise _Malformed("header with a null key")
        value, position = _read_bytes(data, position, end)
        headers.append((key.decode("utf-8", "surrogateescape"), value))
    return headers, position


def build_batch(
    records: Sequence[Record],
    *,
    compression: Compression = Compression.NONE,
    base_offset: int | None = None,
    partition_leader_epoch: int = -1,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    transactional: bool = False,
    control: bool = False,
) -> bytearray:
    """Builds a complete, CRC-valid RecordBatch v2 holding `records` (CreateTime).

    Record offsets are absolute and must increase; the batch's base offset is
    the first record's unless given (a compacted batch may start earlier).
    The result is a bytearray so a leader can `stamp` it in place.
    """
    if not records:
        raise ValueError("a batch needs at least one record")
    base = records[0].offset if base_offset is None else base_offset
    base_timestamp = records[0].timestamp
    body = bytearray()
    previous = base - 1
    for record in records:
        if record.offset <= previous:
            raise ValueError(f"record offset {record.offset} does not increase past {previous}")
        previous = record.offset
        _append_record(body, record.offset - base, record.timestamp - base_timestamp, record)
    attributes = attributes_for(compression, transactional, control)
    batch = bytearray(HEADER_SIZE)
    batch += compress(compression, body)
    fields = [
        base,
        len(batch) - LOG_OVERHEAD,
        partition_leader_epoch,
        MAGIC,
        0,
        attributes,
        records[-1].offset - base,
        base_timestamp,
        max(record.timestamp for record in records),
        producer_id,
        producer_epoch,
        base_sequence,
        len(records),
    ]
    try:
        HEADER.pack_into(batch, 0, *fields)
    except struct.error as error:
        raise ValueError(f"a batch header field is out of range: {error}") from None
    fields[4] = crc_of(batch, 0, len(batch))
    HEADER.pack_into(batch, 0, *fields)
    return batch


def _append_record(out: bytearray, offset_delta: int, timestamp_delta: int, record: Record) -> None:
    fields = bytearray(b"\x00")
    fields += encode_varlong(timestamp_delta)
    fields += encode_varint(offset_delta)
    _append_bytes(fields, record.key)
    _append_bytes(fields, record.value)
    fields += encode_varint(len(record.headers))
    for key, value in record.headers:
        _append_bytes(fields, key.encode("utf-8", "surrogateescape"))
        _append_bytes(fields, value)
    out += encode_varint(len(fields))
    out += fields


def _append_bytes(out: bytearray, data: bytes | None) -> None:
    if data is None:
        out += _NULL
    else:
        out += encode_varint(len(data))
        out += data
