"""Sparse .index and .timeindex files in Kafka's formats.

They are hints, not truth: Kafka does not checksum them and rebuilds them
after a crash, and so does this log. Entries live in memory (arrays) and are
written to the file in batches when the segment is flushed, rolled or closed,
so an append costs no extra system call; a crash loses only entries that
recovery rebuilds anyway.
"""

from __future__ import annotations

import bisect
import os
import struct
from array import array
from pathlib import Path

INT32_MAX = 2**31 - 1


class IndexCorruptError(ValueError):
    """An index file that cannot be trusted; the segment rebuilds it from the log."""


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

    def __len__(self) -> int:
        return len(self.keys)

    def load(self, log_size: int) -> None:
        """Reads the file, raising IndexCorruptError unless every entry is plausible."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise IndexCorruptError(f"{self.path.name} is missing") from None
        if len(raw) % self.ENTRY.size:
            raise IndexCorruptError(f"{self.path.name} has {len(raw)} bytes, not a multiple of {self.ENTRY.size}")
        keys, values = array("q"), array("q")
        for fields in self.ENTRY.iter_unpack(raw):
            key, value = self._decode(*fields)
            self._check(keys, values, key, value, log_size)
            keys.append(key)
            values.append(value)
        self.keys, self.values, self._written = keys, values, len(keys)

    def append(self, key: int, value: int) -> None:
        self.keys.append(key)
        self.values.append(value)

    def clear(self) -> None:
        """Forgets every entry in memory (before a rebuild); the file keeps them until rewrite()."""
        self.keys, self.values = array("q"), array("q")

    def rewrite(self) -> None:
        """Replaces the file with the entries in memory."""
        self.path.write_bytes(b"")
        self._written = 0
        self.persist(fsync=False)

    def persist(self, fsync: bool) -> None:
        """Writes entries not yet in the file (and fsyncs it if asked)."""
        pending = b"".join(
            self.ENTRY.pack(*self._encode(self.keys[i], self.values[i])) for i in range(self._written, len(self.keys))
        )
        if not pending and not fsync:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, pending)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._written = len(self.keys)

    def floor(self, key: int) -> int:
        """Position in the arrays of the last entry with key <= `key`, or -1."""
        return bisect.bisect_right(self.keys, key) - 1

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

    def _encode(self, key: int, value: int) -> tuple[int, int]:
        raise NotImplementedError

    def _decode(self, first: int, second: int) -> tuple[int, int]:
        raise NotImplementedError

    def _check(self, keys: array, values: array, key: int, value: int, log_size: int) -> None:
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

    def _decode(self, first: int, second: int) -> tuple[int, int]:
        return first + self.base_offset, second

    def _check(self, keys: array, values: array, key: int, value: int, log_size: int) -> None:
        if key < self.base_offset or not 0 <= value < log_size:
            raise IndexCorruptError(f"{self.path.name}: entry ({key}, {value}) outside the segment")
        if keys and (key <= keys[-1] or value <= values[-1]):
            raise IndexCorruptError(f"{self.path.name}: entry ({key}, {value}) does not increase")


class TimeIndex(SparseIndex):
    """Largest timestamp so far -> offset of the batch that reached it (timestamp i64, relative offset i32)."""

    ENTRY = struct.Struct(">qi")
    SUFFIX = ".timeindex"

    def _encode(self, key: int, value: int) -> tuple[int, int]:
        return key, value - self.base_offset

    def _decode(self, first: int, second: int) -> tuple[int, int]:
        return first, second + self.base_offset

    def _check(self, keys: array, values: array, key: int, value: int, log_size: int) -> None:
        if value < self.base_offset or key < 0:
            raise IndexCorruptError(f"{self.path.name}: entry ({key}, {value}) outside the segment")
        if keys and (key <= keys[-1] or value < values[-1]):
            raise IndexCorruptError(f"{self.path.name}: entry ({key}, {value}) does not increase")
