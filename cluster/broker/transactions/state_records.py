"""Transaction metadata and its records in the internal topic __transaction_state.

Every change of a transaction's state is written there (acks=all) before it takes effect,
so the broker that next leads the transactional id's partition replays the topic and
resumes where the last coordinator stopped: it finishes a commit or abort that was
decided, and fences the producer of one that was not. Keys and values use Kafka's
layouts (TransactionLogKey v0, TransactionLogValue v0) and its partitioning of ids.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cluster.broker.internal_records import INT8, INT16, INT32, INT64, InternalRecordError, RecordReader, encode_string

TRANSACTION_STATE_TOPIC = "__transaction_state"
_VERSION = 0

TopicPartition = tuple[str, int]


class TxnState(enum.IntEnum):
    """Kafka's TransactionState ids as stored in the log."""

    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7


@dataclass(frozen=True)
class TxnMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState
    partitions: frozenset[TopicPartition] = field(default_factory=frozenset)
    last_update_ms: int = -1
    start_ms: int = -1
    """When the ongoing transaction began (its first AddPartitions), for its timeout."""


def encode_key(transactional_id: str) -> bytes:
    return INT16.pack(_VERSION) + encode_string(transactional_id)


def encode_value(metadata: TxnMetadata) -> bytes:
    by_topic: dict[str, list[int]] = {}
    for topic, index in sorted(metadata.partitions):
        by_topic.setdefault(topic, []).append(index)
    partitions = INT32.pack(len(by_topic)) + b"".join(
        encode_string(topic) + INT32.pack(len(indexes)) + b"".join(INT32.pack(i) for i in indexes)
        for topic, indexes in by_topic.items()
    )
    return (INT16.pack(_VERSION) + INT64.pack(metadata.producer_id) + INT16.pack(metadata.producer_epoch)
            + INT32.pack(metadata.timeout_ms) + INT8.pack(metadata.state) + partitions
            + INT64.pack(metadata.last_update_ms) + INT64.pack(metadata.start_ms))


def decode_key(key: bytes) -> str:
    reader = RecordReader(key)
    version = reader.int16()
    if version != _VERSION:
        raise InternalRecordError(f"unsupported transaction log key version {version}")
    return reader.string_required()


def decode_value(transactional_id: str, value: bytes) -> TxnMetadata:
    reader = RecordReader(value)
    version = reader.int16()
    if version != _VERSION:
        raise InternalRecordError(f"unsupported transaction log value version {version}")
    producer_id, epoch, timeout_ms = reader.int64(), reader.int16(), reader.int32()
    try:
        state = TxnState(reader.int8())
    except ValueError as error:
        raise InternalRecordError(str(error)) from None
    partitions = set()
    for _ in range(max(reader.int32(), 0)):
        topic = reader.string_required()
        partitions.update((topic, reader.int32()) for _ in range(reader.int32()))
    return TxnMetadata(transactional_id, producer_id, epoch, timeout_ms, state, frozenset(partitions),
                       last_update_ms=reader.int64(), start_ms=reader.int64())
