"""The leader-epoch cache: which epoch's leader wrote which offsets (KIP-101, KIP-279).

A follower that rejoins asks the leader where its latest epoch ended and
truncates there instead of at its high watermark; this cache answers that
question on both sides. It is checkpointed on every change in Kafka's
leader-epoch-checkpoint format ("epoch startOffset" lines, plus a checksum).

Every entry is the epoch of a stored batch, so opening a log rebuilds the
cache from the batches' headers, which the loader reads anyway, and only
compares the checkpoint with it: a checkpoint that a crash left behind, that a
full disk kept from being rewritten, or whose digits flipped, is never trusted.
"""

from __future__ import annotations

import bisect
import logging
from pathlib import Path
from typing import Iterable

from cluster.broker.log import checkpoint

FILE_NAME = "leader-epoch-checkpoint"
UNDEFINED_EPOCH = -1
UNDEFINED_OFFSET = -1

_log = logging.getLogger(__name__)


class LeaderEpochCache:
    """Ordered (epoch, start offset) entries, both strictly increasing, persisted on change."""

    def __init__(self, path: Path, entries: list[tuple[int, int]]) -> None:
        self._path = path
        self._epochs = [epoch for epoch, _ in entries]
        self._starts = [start for _, start in entries]
        self.saved = True
        """False while the checkpoint is behind these entries: a full disk refused the last write."""

    @classmethod
    def rebuilt(cls, directory: Path, epoch_starts: Iterable[tuple[int, int]], log_start: int, log_end: int) -> LeaderEpochCache:
        """The cache the log's batches imply (their (epoch, base offset) pairs in order), for the
        log between `log_start` and `log_end`; the checkpoint is rewritten if it says otherwise."""
        cache = cls(directory / FILE_NAME, [])
        for epoch, start in epoch_starts:
            if epoch > cache.latest_epoch:
                cache._assign_in_memory(epoch, start)
        cache._cut_below(log_start)
        cache._cut_from(log_end)
        stored = cache._stored_entries()
        if stored != cache.entries:
            if stored is not None:
                _log.warning("%s: the leader-epoch checkpoint says %s but the batches say %s; rewritten from the batches",
                             directory, stored, cache.entries)
            cache.persist()
        return cache

    def _stored_entries(self) -> list[tuple[int, int]] | None:
        try:
            entries = checkpoint.read(self._path, 2)
        except checkpoint.CheckpointError as error:
            _log.warning("%s: the leader-epoch checkpoint is corrupt (%s) and not trusted; it is rebuilt from the batches",
                         self._path.parent, error)
            return None
        return None if entries is None else [(epoch, start) for epoch, start in entries]

    @property
    def entries(self) -> list[tuple[int, int]]:
        return list(zip(self._epochs, self._starts))

    @property
    def latest_epoch(self) -> int:
        return self._epochs[-1] if self._epochs else UNDEFINED_EPOCH

    def assign(self, epoch: int, start_offset: int) -> None:
        """Records that `epoch` starts at `start_offset`, dropping entries this contradicts (as Kafka)."""
        self.assign_all([(epoch, start_offset)])

    def assign_all(self, assignments: Iterable[tuple[int, int]]) -> None:
        """Several assigns in offset order with one checkpoint write (appends, recovery)."""
        changed = False
        for epoch, start_offset in assignments:
            if epoch < 0 or start_offset < 0:
                raise ValueError(f"leader epoch {epoch} and start offset {start_offset} must be non-negative")
            changed |= self._assign_in_memory(epoch, start_offset)
        if changed:
            self.persist()

    def assign_newer(self, assignments: Iterable[tuple[int, int]]) -> None:
        """Assigns only epochs above the latest, Kafka's rule when rebuilding from the log's batches."""
        self.assign_all((epoch, start) for epoch, start in assignments if epoch > self.latest_epoch)

    def end_offset_for_epoch(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(largest known epoch <= `epoch`, where it ends), Kafka's OffsetForLeaderEpoch answer."""
        if epoch == UNDEFINED_EPOCH or not self._epochs:
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if epoch == self._epochs[-1]:
            return epoch, log_end_offset
        higher = bisect.bisect_right(self._epochs, epoch)
        if higher == len(self._epochs):
            return UNDEFINED_EPOCH, UNDEFINED_OFFSET
        if higher == 0:
            return epoch, self._starts[0]
        return self._epochs[higher - 1], self._starts[higher]

    def truncate_from_end(self, end_offset: int) -> None:
        """Forgets epochs that start at or after `end_offset` (the log was truncated there)."""
        if self._cut_from(end_offset):
            self.persist()

    def truncate_from_start(self, start_offset: int) -> None:
        """Drops epochs wholly below `start_offset`; the epoch covering it now starts there."""
        if self._cut_below(start_offset):
            self.persist()

    def clear(self) -> None:
        self._epochs.clear()
        self._starts.clear()
        self.persist()

    def persist(self) -> None:
        """Checkpoints the entries; a full disk keeps the old file, and retry() writes it later."""
        self.saved = checkpoint.write_or_keep_old(self._path, self.entries)

    def retry(self) -> None:
        """Writes the checkpoint if a full disk refused its last write."""
        if not self.saved:
            self.persist()

    def _cut_from(self, end_offset: int) -> bool:
        keep = bisect.bisect_left(self._starts, end_offset)
        if keep == len(self._starts):
            return False
        del self._epochs[keep:], self._starts[keep:]
        return True

    def _cut_below(self, start_offset: int) -> bool:
        covering = bisect.bisect_right(self._starts, start_offset) - 1
        if covering < 0 or (covering == 0 and self._starts[0] == start_offset):
            return False
        del self._epochs[:covering], self._starts[:covering]
        self._starts[0] = start_offset
        return True

    def _assign_in_memory(self, epoch: int, start_offset: int) -> bool:
        if self._epochs and epoch == self._epochs[-1] and start_offset >= self._starts[-1]:
            return False
        keep = len(self._epochs)
        while keep and (self._epochs[keep - 1] >= epoch or self._starts[keep - 1] >= start_offset):
            keep -= 1
        if keep < len(self._epochs):
            _log.warning(
                "%s: epoch %d at offset %d supersedes entries %s",
                self._path.parent, epoch, start_offset, self.entries[keep:],
            )
            del self._epochs[keep:], self._starts[keep:]
        self._epochs.append(epoch)
        self._starts.append(start_offset)
        return True
