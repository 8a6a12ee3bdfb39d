"""Sparse .index and .timeindex files in Kafka's formats.

They are hints, not truth: Kafka does not checksum them, and this log
recomputes them from the batches every time it opens a segment, rewriting a
file only when it differs from what the batches imply. So they are never
fsynced, and a full disk costs only the entries it could not take: they are
written at the next attempt. Entries live in memory (arrays) and are appended
to the file in batches when the segment is flushed, rolled or closed, so an
append costs no extra system call.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from pathlib import Path

from cluster.broker.log.errors import is_disk_full

INT32_MAX = 2**31 - 1


class SparseIndex:
    """Entries (key, value), both non-decreasing, stored as absolute numbers in memory."""

    ENTRY: struct.Struct
    SUFFIX: str

    def __init__(self, path: Path, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.keys = array("q")
        self.values = array("q")
        self._written = 0
        """Entries at the start of the file that match the ones in memory."""

    def __len__(self) -> int:
        return len(self.keys)

    def append(self, key: int, value: int) -> None:
        self.keys.append(key)
        self.values.append(value)

    def clear(self) -> None:
        """Forgets every entry in memory (before a rebuild); the file keeps them until store()."""
        self.keys, self.values = array("q"), array("q")

    def truncate_entries(self, count: int) -> None:
        """Keeps the first `count` entries, in memory and in the file (an append that was undone)."""
        del self.keys[count:], self.values[count:]
        if self._written > count:
            os.truncate(self.path, count * self.ENTRY.size)
            self._written = count

    def store(self) -> bool:
        """Makes the file hold exactly the entries in memory; True if it had to be rewritten."""
        wanted = self._encoded(0)
        try:
            found = self.path.read_bytes()
        except FileNotFoundError:
            found = None
        if found == wanted or (found is None and not wanted):
            self._written = len(self.keys)
            return False
        if found:
            os.truncate(self.path, 0)
        self._written = 0
        self.persist()
        return True

    def persist(self) -> None:
        """Appends the entries not yet in the file; on a full disk the file is cut back to the
        entries it held, and the rest are written at the next persist."""
        pending = self._encoded(self._written)
        if not pending:
            return
        try:
            self._append_to_file(pending)
        except OSError as error:
            if not is_disk_full(error):
                raise
            return
        self._written = len(self.keys)

    def _append_to_file(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            os.ftruncate(fd, self._written * self.ENTRY.size)
            raise
        finally:
            os.close(fd)

    def floor(self, key: int) -> int:
        """Position in the arrays of the last entry with key <= `key`, or -1."""
        return bisect.bisect_right(self.keys, key) - 1

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

    def _encoded(self, first: int) -> bytes:
        pack, encode = self.ENTRY.pack, self._encode
        return b"".join(pack(*encode(self.keys[i], self.values[i])) for i in range(first, len(self.keys)))

    def _encode(self, key: int, value: int) -> tuple[int, int]:
        raise NotImplementedError


class OffsetIndex(SparseIndex):
    """Last offset of a batch -> file position where that batch starts (relative offset i32, position i32)."""

    ENTRY = struct.Struct(">ii")
    SUFFIX = ".index"

    def position_floor(self, position: int) -> int:
        """The greatest indexed batch position <= `position`, or 0."""
        at = bisect.bisect_right(self.values, position) - 1
        return self.values[at] if at >= 0 else 0

    def _encode(self, key: int, value: int) -> tuple[int, int]:
        return key - self.base_offset, value


class TimeIndex(SparseIndex):
    """Largest timestamp so far -> offset of the batch that reached it (timestamp i64, relative offset i32)."""

    ENTRY = struct.Struct(">qi")
    SUFFIX = ".timeindex"

    def _encode(self, key: int, value: int) -> tuple[int, int]:
        return key, value - self.base_offset
