"""A partition's producer and transaction state: rebuilt from its log's newest producer snapshot and the
batches after it, and snapshotted so that the next rebuild is short (Kafka's ProducerStateManager).

The state is what the log's batch headers (and its markers' records) imply: each idempotent producer's
epochs and last batches (producer_state.py), the open, ended and aborted transactions
(transactions/partition_state.py). Rebuilding it from every batch header of a large log costs a pass over
the whole log at every open and every truncation; a snapshot (log/producer_snapshot.py) holds the state
at one offset, so only the batches after it are replayed. Snapshots are taken where Kafka takes them:
at each segment roll, at the new segment's base, and at a clean shutdown, at the log end. The log decides
which snapshots its batches still back (log/snapshot_files.py); without one the whole log is replayed.

Producer state outlives the segments that held a producer's batches, as in Kafka since KIP-360 and as
in the running broker: a snapshot carries a producer whose batches retention deleted, so its retries
are still recognised after a restart. Only a replay without a usable snapshot forgets such a producer.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import NamedTuple

from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.log.producer_snapshot import ProducerSnapshot
from cluster.broker.producer_state import ProducerStateTable
from cluster.broker.transactions import txn_index
from cluster.broker.transactions.markers import read_marker
from cluster.broker.transactions.partition_state import AbortedTransaction, PartitionTransactions

_log = logging.getLogger(__name__)


class PartitionState(NamedTuple):
    producers: ProducerStateTable
    transactions: PartitionTransactions


def recover(log: PartitionLog) -> PartitionState:
    """The state after every batch of `log`: its newest usable snapshot, then the batches after it. The
    .txnindex files are rewritten where they differ from the aborted transactions found."""
    snapshot = log.producer_snapshot()
    state = restored(snapshot) if snapshot is not None else PartitionState(ProducerStateTable(), PartitionTransactions())
    start = snapshot.offset if snapshot is not None else 0
    replayed = replay(log, state, start)
    state.transactions.forget_below(log.log_start_offset)
    txn_index.store(log.directory, log.segment_base_offsets, state.transactions.aborted)
    _log.info("%s: producer state rebuilt from %s and %d batch(es) after it, up to offset %d", log.directory,
              f"the snapshot at offset {start}" if snapshot is not None else "an empty state", replayed,
              log.log_end_offset)
    return state


def replay(log: PartitionLog, state: PartitionState, start: int) -> int:
    """Brings `state` from offset `start` (a batch boundary) to the log end; returns the batches read."""
    count = 0
    for header in log.batch_headers(start):
        marker = read_marker(log.stored_batch(header)) if header.is_control else None
        state.producers.record(header, marker[1] if marker else -1)
        state.transactions.record(header, marker[0] if marker else None)
        count += 1
    return count


def restored(snapshot: ProducerSnapshot) -> PartitionState:
    return PartitionState(
        ProducerStateTable.restored(snapshot.producers),
        PartitionTransactions.restored(snapshot.ongoing, snapshot.unreplicated,
                                       [AbortedTransaction(*fields) for fields in snapshot.aborted]),
    )


def snapshot_of(offset: int, state: PartitionState) -> ProducerSnapshot:
    """The snapshot of `state`, which must be the state after every batch below `offset` and no other."""
    transactions = state.transactions
    return ProducerSnapshot(offset, state.producers.entries(), transactions.ongoing, transactions.unreplicated,
                            [dataclasses.astuple(aborted) for aborted in transactions.aborted])
