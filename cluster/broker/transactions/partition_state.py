"""A partition's transactions as its log shows them: what is still open, what was aborted, the last stable offset.

Read-committed consumers may read only below the last stable offset (LSO): the first
offset of the earliest transaction whose outcome is not yet known for sure, or the high
watermark. A transaction's outcome is sure once its marker is below the high watermark: a
marker only the leader holds could still be lost with it. Aborted transactions are kept
(producer, first offset, marker offset) so fetches can tell consumers which data to drop;
they are Kafka's aborted-transaction index. All of it is rebuilt whenever the log opens, from
the log's newest producer snapshot and the batches after it (producer_snapshots.py).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterable

from cluster.broker.protocol.record_batch import BatchHeader


@dataclass(frozen=True)
class AbortedTransaction:
    producer_id: int
    first_offset: int
    last_offset: int
    """The abort marker's offset."""
    last_stable_offset: int
    """The partition's last stable offset once the marker was appended, ignoring the high watermark
    (Kafka's AbortedTxn field): the first offset of a transaction still open, else past the marker."""


@dataclass
class PartitionTransactions:
    _ongoing: dict[int, int] = field(default_factory=dict)
    """Producer id -> the first offset of its open transaction."""
    _unreplicated: list[tuple[int, int]] = field(default_factory=list)
    """(first offset, marker offset) of ended transactions whose marker may not be replicated yet."""
    aborted: list[AbortedTransaction] = field(default_factory=list)
    """In marker order, so in last-offset order."""

    @classmethod
    def restored(cls, ongoing: dict[int, int], unreplicated: Iterable[tuple[int, int]],
                 aborted: Iterable[AbortedTransaction]) -> PartitionTransactions:
        """The state a snapshot describes, to go on from with the batches after it."""
        return cls(dict(ongoing), list(unreplicated), list(aborted))

    @property
    def ongoing(self) -> dict[int, int]:
        """Producer id -> the first offset of its open transaction (a copy)."""
        return dict(self._ongoing)

    @property
    def unreplicated(self) -> list[tuple[int, int]]:
        """(first offset, marker offset) of ended transactions whose marker was not yet known to be
        below the high watermark the last time the LSO was asked for (a copy)."""
        return list(self._unreplicated)

    def record(self, header: BatchHeader, commits: bool | None) -> AbortedTransaction | None:
        """After an append: a transactional batch opens its producer's transaction, a marker ends it.
        Returns the transaction an abort marker aborted."""
        if not header.is_transactional:
            return None
        if not header.is_control:
            self._ongoing.setdefault(header.producer_id, header.base_offset)
            return None
        first = self._ongoing.pop(header.producer_id, None)
        if first is None:
            return None  # a marker for a transaction that wrote nothing here
        self._unreplicated.append((first, header.base_offset))
        if commits:
            return None
        stable = min([header.base_offset + 1, *self._ongoing.values()])
        aborted = AbortedTransaction(header.producer_id, first, header.base_offset, stable)
        self.aborted.append(aborted)
        return aborted

    def last_stable_offset(self, high_watermark: int) -> int:
        self._unreplicated = [(first, marker) for first, marker in self._unreplicated if marker >= high_watermark]
        firsts = [*self._ongoing.values(), *(first for first, _ in self._unreplicated)]
        return min([high_watermark, *firsts])

    def aborted_between(self, start: int, end: int) -> list[AbortedTransaction]:
        """The aborted transactions with data in [start, end): what a fetch of that range must tell consumers.
        Only those whose marker is at or after `start` can qualify: a consumer near the end looks at few."""
        first = bisect.bisect_left(self.aborted, start, key=lambda txn: txn.last_offset)
        return [txn for txn in self.aborted[first:] if txn.first_offset < end]

    def forget_below(self, log_start: int) -> None:
        """Aborted transactions wholly below the log start are no longer anyone's concern."""
        self.aborted = [txn for txn in self.aborted if txn.last_offset >= log_start]
