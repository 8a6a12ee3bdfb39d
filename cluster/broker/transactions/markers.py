"""Transaction markers: the control batches that end a transaction in each partition it wrote.

A marker is a batch with the control and transactional attribute bits, the producer's id
and epoch, and one record whose key says commit or abort (Kafka's ControlRecordType) and
whose value names the coordinator epoch that wrote it (Kafka's EndTransactionMarker).
Readers of a partition learn from these where each producer's transaction ends and how.
"""

from __future__ import annotations

import struct

from cluster.broker.protocol.records import Record, build_batch, decode_records

ABORT = 0
COMMIT = 1
_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")
_VERSION = 0


class MarkerError(ValueError):
    """A control batch whose record is not a commit or abort marker."""


def marker_batch(producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int,
                 timestamp: int) -> bytearray:
    record = Record(offset=0, timestamp=timestamp, key=_KEY.pack(_VERSION, COMMIT if commit else ABORT),
                    value=_VALUE.pack(_VERSION, coordinator_epoch))
    return build_batch([record], producer_id=producer_id, producer_epoch=producer_epoch,
                       transactional=True, control=True)


def is_commit(batch: bytes | bytearray | memoryview) -> bool:
    """Whether a control batch commits (else it aborts)."""
    return read_marker(batch)[0]


def read_marker(batch: bytes | bytearray | memoryview) -> tuple[bool, int]:
    """(commits?, the coordinator epoch that wrote it) of a control batch."""
    records = decode_records(batch)
    if len(records) != 1 or records[0].key is None or len(records[0].key) < _KEY.size:
        raise MarkerError("a control batch must hold one record with a 4-byte key")
    _, kind = _KEY.unpack_from(records[0].key)
    if kind not in (ABORT, COMMIT):
        raise MarkerError(f"control record type {kind} is neither abort nor commit")
    value = records[0].value
    if value is None or len(value) < _VALUE.size:
        raise MarkerError("a transaction marker's value must hold its version and coordinator epoch")
    return kind == COMMIT, _VALUE.unpack_from(value)[1]
