"""What the replication core reads from a partition's log: positions and leader epochs, nothing else.

The core never writes the log; it asks its driver to (see `actions`). `PartitionLog` fits this
protocol through `PartitionLogPositions`; the simulator's in-memory log fits it directly.
"""

from __future__ import annotations

from typing import Protocol

from cluster.broker.log.epoch_cache import UNDEFINED_EPOCH, UNDEFINED_OFFSET
from cluster.broker.log.partition_log import PartitionLog

__all__ = ["UNDEFINED_EPOCH", "UNDEFINED_OFFSET", "LogPositions", "PartitionLogPositions"]


class LogPositions(Protocol):
    @property
    def log_start_offset(self) -> int: ...

    @property
    def log_end_offset(self) -> int: ...

    @property
    def latest_epoch(self) -> int:
        """The epoch of the newest batch, or UNDEFINED_EPOCH for a log without any."""
        ...

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """(largest epoch <= `epoch`, the offset where it ends), or (UNDEFINED_EPOCH, UNDEFINED_OFFSET).

        KIP-279's answer: the end is the next epoch's start offset, or the log end for the
        latest epoch; an epoch below every known one gets the first known epoch's start.
        """
        ...


class PartitionLogPositions:
    """The broker's on-disk log seen through `LogPositions`."""

    def __init__(self, log: PartitionLog) -> None:
        self._log = log

    @property
    def log_start_offset(self) -> int:
        return self._log.log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self._log.log_end_offset

    @property
    def latest_epoch(self) -> int:
        return self._log.epoch_cache.latest_epoch

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        return self._log.end_offset_for_epoch(epoch)
