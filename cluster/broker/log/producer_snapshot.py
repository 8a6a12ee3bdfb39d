"""The producer snapshot file format (`<offset>.snapshot`): a partition's producer and transaction state
at one offset, so that opening a log replays only the batches after it (Kafka's ProducerStateManager).

Sans-IO: bytes in, a ProducerSnapshot out, and back; snapshot_files.py reads and writes the files.
The layout is this broker's own, not Kafka's version 1: Kafka's snapshot keeps only each producer's
last batch and rebuilds the aborted transactions from the .txnindex files, while here a restart
must recognise a retry of any of a producer's last five batches, and .txnindex files are hints,
so a snapshot holds everything a full scan of the log up to its offset would rebuild. All
integers are big-endian:

    version            int16   2 (Kafka's tools, which know only 1, refuse the file)
    crc                uint32  CRC-32C of every byte after this field
    offset             int64   the log end the state was taken at (the file name says it too)
    producers          int32 count, then each:
        producer_id        int64
        epoch              int16
        coordinator_epoch  int32   of its newest transaction marker in this epoch, -1 if none
        batches            int8 count (at most 5, oldest first), then each:
            first_sequence int32, last_sequence int32, first_offset int64, last_offset int64,
            max_timestamp int64
    ongoing            int32 count, then each: producer_id int64, first_offset int64
    unreplicated       int32 count, then each: first_offset int64, marker_offset int64
    aborted            int32 count, then each: producer_id int64, first_offset int64,
                       last_offset int64, last_stable_offset int64 (a .txnindex entry's fields)

A file that is short, long, of another version, or whose CRC does not match raises
SnapshotError: the caller drops it and uses an older snapshot or a full scan.
"""

from __future__ import annotations

import struct
from typing import Iterator, NamedTuple

import crc32c

from cluster.broker.producer_state import BATCHES_KEPT, BatchRecord, ProducerEntry

VERSION = 2
_PREFIX = struct.Struct(">hI")
_COUNT = struct.Struct(">i")
_OFFSET = struct.Struct(">q")
_PRODUCER = struct.Struct(">qhib")
_BATCH = struct.Struct(">iiqqq")
_PAIR = struct.Struct(">qq")
_ABORTED = struct.Struct(">qqqq")


class SnapshotError(ValueError):
    """A snapshot file that cannot be trusted (cut short, damaged, or of an unknown version)."""


class ProducerSnapshot(NamedTuple):
    """A partition's state after every batch below `offset`, and none at or after it."""

    offset: int
    producers: list[ProducerEntry]
    ongoing: dict[int, int]
    """Producer id -> the first offset of its open transaction."""
    unreplicated: list[tuple[int, int]]
    """(first offset, marker offset) of ended transactions whose marker may not be replicated yet."""
    aborted: list[tuple[int, int, int, int]]
    """(producer id, first offset, marker offset, last stable offset): AbortedTransaction's fields, as tuples
    because the transactions package stands on the log, not the other way round."""


def encode(snapshot: ProducerSnapshot) -> bytes:
    body = bytearray(_OFFSET.pack(snapshot.offset))
    body += _COUNT.pack(len(snapshot.producers))
    for entry in snapshot.producers:
        body += _PRODUCER.pack(entry.producer_id, entry.epoch, entry.coordinator_epoch, len(entry.batches))
        for batch in entry.batches:
            body += _BATCH.pack(batch.first_sequence, batch.last_sequence, batch.first_offset, batch.last_offset,
                                batch.max_timestamp)
    body += _COUNT.pack(len(snapshot.ongoing))
    for producer_id, first_offset in sorted(snapshot.ongoing.items()):
        body += _PAIR.pack(producer_id, first_offset)
    body += _COUNT.pack(len(snapshot.unreplicated))
    for first_offset, marker_offset in snapshot.unreplicated:
        body += _PAIR.pack(first_offset, marker_offset)
    body += _COUNT.pack(len(snapshot.aborted))
    for aborted in snapshot.aborted:
        body += _ABORTED.pack(*aborted)
    return _PREFIX.pack(VERSION, crc32c.crc32c(body)) + bytes(body)


def decode(data: bytes) -> ProducerSnapshot:
    """The snapshot in `data`; SnapshotError says why it is not one."""
    if len(data) < _PREFIX.size:
        raise SnapshotError(f"{len(data)} bytes is shorter than the {_PREFIX.size}-byte version and CRC")
    version, crc = _PREFIX.unpack_from(data)
    if version != VERSION:
        raise SnapshotError(f"version {version}, expected {VERSION}")
    body = memoryview(data)[_PREFIX.size:]
    if crc32c.crc32c(body) != crc:
        raise SnapshotError(f"CRC mismatch (stored {crc:#010x}, computed {crc32c.crc32c(body):#010x})")
    reader = _Reader(body)
    try:
        snapshot = ProducerSnapshot(
            reader.one(_OFFSET)[0],
            [_producer(reader, *fields) for fields in reader.many(_PRODUCER)],
            dict(reader.many(_PAIR)),
            list(reader.many(_PAIR)),
            list(reader.many(_ABORTED)),
        )
    except struct.error as error:
        raise SnapshotError(f"cut short: {error}") from None
    reader.expect_end()
    return snapshot


def _producer(reader: _Reader, producer_id: int, epoch: int, coordinator_epoch: int, batches: int) -> ProducerEntry:
    if not 0 <= batches <= BATCHES_KEPT:
        raise SnapshotError(f"producer {producer_id} has {batches} batches, at most {BATCHES_KEPT} are kept")
    return ProducerEntry(producer_id, epoch, coordinator_epoch,
                         tuple(BatchRecord(*reader.one(_BATCH)) for _ in range(batches)))


class _Reader:
    """Reads fields in order from a snapshot's body; struct.error when the body ends too soon."""

    def __init__(self, body: memoryview) -> None:
        self._body = body
        self._position = 0

    def one(self, layout: struct.Struct) -> tuple[int, ...]:
        fields = layout.unpack_from(self._body, self._position)
        self._position += layout.size
        return fields

    def many(self, layout: struct.Struct) -> Iterator[tuple[int, ...]]:
        """A count, then that many entries (read as the caller iterates)."""
        (count,) = self.one(_COUNT)
        if count < 0 or count * layout.size > len(self._body) - self._position:
            raise SnapshotError(f"a count of {count} entries does not fit in the file")
        for _ in range(count):
            yield self.one(layout)

    def expect_end(self) -> None:
        if self._position != len(self._body):
            raise SnapshotError(f"{len(self._body) - self._position} bytes after the last entry")
