"""RecordBatch v2 checks and offset stamping, compiled from native/ (Rust, PyO3).

The rules are record_batch.validate's, plus max.message.bytes: framing, magic,
codec, non-negative counts and CRC-32C. A rejected batch is reported by position
only; validate() at that position says why.
"""

from typing import Final

Placement = tuple[int, int, int, int]
"""(position, last offset, max timestamp, size): where the log puts one batch."""

class BatchRejected(ValueError):
    """args[0] is the byte position of the first batch that breaks a rule."""

def stamp_batches(
    buffer: bytearray | memoryview, base_offset: int, leader_epoch: int, max_batch_bytes: int, log_append_time: int = -1
) -> tuple[list[Placement], int, int]:
    """Checks every batch, then stamps consecutive offsets from base_offset and leader_epoch.

    A non-negative log_append_time also makes each a LogAppendTime batch of that
    time (record_batch.stamp_log_append_time, CRC recomputed). Returns (placements,
    next offset, largest max timestamp). Nothing is stamped unless every batch is
    valid; raises TypeError for a read-only buffer.
    """

def check_batches(
    buffer: bytes | bytearray | memoryview, max_batch_bytes: int
) -> list[tuple[int, int, int, int, int, int]]:
    """Checks every batch: (position, base offset, last offset, leader epoch, max timestamp, size) each."""

DETACH_BYTES: Final[int]
"""Buffers this large are checked without the GIL."""
