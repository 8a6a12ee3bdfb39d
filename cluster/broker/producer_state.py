"""Idempotent-producer bookkeeping for one partition: what makes a retried batch harmless.

An idempotent producer numbers its batches per partition. The leader keeps the
last five batches of each producer (the most a producer has in flight), so a
retry of one of them is answered with the offsets it already got instead of
being appended again, and a gap in the numbering is refused rather than
silently accepted. The table is rebuilt when a log opens, from its newest producer
snapshot and the batch headers after it (producer_snapshots.py), so a restarted
broker still recognises retries of batches it took before.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.record_batch import BatchHeader

BATCHES_KEPT = 5
NO_SEQUENCE = -1
_INT32_MAX = 2**31 - 1


class SequenceError(Exception):
    """A batch the producer must not have sent in this order; `code` goes back to the client."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BatchRecord:
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int
    max_timestamp: int
    """As stored: a retry of a LogAppendTime batch is answered with the time the original got."""


class ProducerEntry(NamedTuple):
    """One producer's state as a snapshot file holds it (log/producer_snapshot.py)."""

    producer_id: int
    epoch: int
    coordinator_epoch: int
    batches: tuple[BatchRecord, ...]
    """Oldest first, at most BATCHES_KEPT."""


@dataclass
class _Producer:
    epoch: int
    coordinator_epoch: int = -1
    """The highest coordinator epoch of this producer's markers here: an older coordinator's are refused."""
    batches: deque[BatchRecord] = field(default_factory=lambda: deque(maxlen=BATCHES_KEPT))


def _next_sequence(sequence: int) -> int:
    return 0 if sequence == _INT32_MAX else sequence + 1


def last_sequence_of(header: BatchHeader) -> int:
    """Sequences wrap at int32 max, as in Kafka."""
    return (header.base_sequence + header.last_offset_delta) % (_INT32_MAX + 1)


class ProducerStateTable:
    def __init__(self) -> None:
        self._producers: dict[int, _Producer] = {}

    @classmethod
    def restored(cls, entries: Iterable[ProducerEntry]) -> ProducerStateTable:
        """The table a snapshot describes, to go on from with the batches after it."""
        table = cls()
        for entry in entries:
            table._producers[entry.producer_id] = _Producer(
                entry.epoch, entry.coordinator_epoch, deque(entry.batches, maxlen=BATCHES_KEPT))
        return table

    def entries(self) -> list[ProducerEntry]:
        """Every producer's state, by producer id: what a snapshot stores."""
        return [ProducerEntry(producer_id, producer.epoch, producer.coordinator_epoch, tuple(producer.batches))
                for producer_id, producer in sorted(self._producers.items())]

    def check(self, header: BatchHeader, coordinator_epoch: int = -1) -> BatchRecord | None:
        """Before an append: the earlier batch this one repeats, if any; raises for a bad sequence.

        A transaction marker is checked only for its epochs: one with a newer producer epoch (a
        transaction aborted by its timeout) fences the producer's older epoch from then on, and one
        from an older coordinator epoch than a marker before it (a deposed coordinator still
        retrying) is refused with TRANSACTION_COORDINATOR_FENCED, as in Kafka.

        A producer new to this partition may start at any sequence: its earlier
        batches may have been deleted by retention, or it may be resuming.
        """
        if not header.is_idempotent:
            return None
        producer = self._producers.get(header.producer_id)
        if producer is None:
            return None
        if header.producer_epoch < producer.epoch:
            raise SequenceError(
                ErrorCode.INVALID_PRODUCER_EPOCH,
                f"producer {header.producer_id} epoch {header.producer_epoch} is older than {producer.epoch}",
            )
        if header.is_control and coordinator_epoch < producer.coordinator_epoch:
            raise SequenceError(
                ErrorCode.TRANSACTION_COORDINATOR_FENCED,
                f"a marker of producer {header.producer_id} from coordinator epoch {coordinator_epoch}, "
                f"older than {producer.coordinator_epoch}",
            )
        if header.is_control or header.base_sequence == NO_SEQUENCE:
            return None  # a transaction marker, or a coordinator's transactional offset commit
        if header.producer_epoch > producer.epoch:
            if header.base_sequence != 0:
                raise SequenceError(
                    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"producer {header.producer_id} started epoch {header.producer_epoch} at sequence {header.base_sequence}",
                )
            return None
        last_sequence = last_sequence_of(header)
        for batch in producer.batches:
            if batch.first_sequence == header.base_sequence and batch.last_sequence == last_sequence:
                return batch
        expected = _next_sequence(producer.batches[-1].last_sequence) if producer.batches else header.base_sequence
        if header.base_sequence != expected:
            raise SequenceError(
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"producer {header.producer_id} sent sequence {header.base_sequence}, expected {expected}",
            )
        return None

    def record(self, header: BatchHeader, coordinator_epoch: int = -1) -> None:
        """After an append (or while replaying the log): remember the batch with its assigned offsets
        and its max timestamp as stored (a marker: the coordinator epoch that wrote it)."""
        if not header.is_idempotent:
            return
        producer = self._producers.get(header.producer_id)
        if producer is None or header.producer_epoch > producer.epoch:
            producer = self._producers[header.producer_id] = _Producer(header.producer_epoch)
        elif header.producer_epoch < producer.epoch:
            return
        if header.is_control:
            producer.coordinator_epoch = max(producer.coordinator_epoch, coordinator_epoch)
        if header.is_control or header.base_sequence == NO_SEQUENCE:
            return  # the producer's sequences go on after its transaction's marker
        producer.batches.append(
            BatchRecord(header.base_sequence, last_sequence_of(header), header.base_offset, header.last_offset,
                        header.max_timestamp)
        )

    def highest_producer_id(self) -> int:
        return max(self._producers, default=-1)
