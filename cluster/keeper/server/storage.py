"""Raft's durable state on disk: a snapshot file and an append-only log, one fsync per Ready.

The log file is a run of checksummed records: a base record first (the index and
term just before the first entry, i.e. the snapshot the log continues), then
entries and hard-state records in the order they were persisted; the last hard
state wins. Keeping the hard state in the same file makes a Ready one write and
one fsync however many entries it carries (group commit). The file only grows:
an entry whose index is already in the log replaces that entry and everything
after it (Raft's truncation) when the file is read back, so no cut can take an
earlier hard state with it.

A snapshot is written whole to its own file (durable_file) before the log is
rewritten to continue from it, so a crash between the two leaves a log that
starts before the snapshot, which loading reconciles by Raft's own rule.
Recovery cuts the log at the first torn or corrupt record: that tail was never
acknowledged as durable.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from cluster.durable_file import write_atomically
from cluster.keeper.raft import EMPTY_SNAPSHOT, DurableState, Entry, HardState, Ready, Snapshot

LOG_NAME = "raft.log"
SNAPSHOT_NAME = "raft.snapshot"

_RECORD = struct.Struct(">II")  # payload length, CRC-32 of the payload
_ENTRY = struct.Struct(">cQQ")  # b"E", term, index, then data
_HARD = struct.Struct(">cQQQ")  # b"H", term, vote, commit
_BASE = struct.Struct(">cQQ")  # b"B", index, term
_SNAPSHOT_HEADER = struct.Struct(">8sQQI")  # magic, index, term, CRC-32 of data
_SNAPSHOT_MAGIC = b"KEEPSNAP"

_log = logging.getLogger(__name__)


class StorageCorrupt(Exception):
    """Damage that is not a torn tail: the operator must look before the server trusts this disk."""


@dataclass
class _Loaded:
    base: Snapshot
    entries: list[Entry]
    hard: HardState
    valid_bytes: int


class RaftStorage:
    """Used by one thread at a time: the Ready loop hands `persist` to a worker and waits for it."""

    def __init__(self, log_dir: Path, snapshot_dir: Path, sync: bool = True) -> None:
        self._log_path = log_dir / LOG_NAME
        self._snapshot_path = snapshot_dir / SNAPSHOT_NAME
        self._sync = sync
        self._fd = -1
        self._snapshot = EMPTY_SNAPSHOT
        self._hard = HardState()
        self._entries: list[Entry] = []
        self._size = 0

    # ---------------------------------------------------------------- recovery

    def load(self) -> DurableState:
        """Reads what survived, cutting a torn tail; creates empty storage on first start."""
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._snapshot_path.parent.mkdir(parents=True, exist_ok=True)
        self._snapshot = self._read_snapshot()
        if not self._log_path.exists():
            self._rewrite_log([])
            return self.durable_state()
        loaded = _read_log(self._log_path.read_bytes(), self._log_path)
        self._hard = loaded.hard
        base, snapshot = loaded.base, self._snapshot
        if base.index > snapshot.index:
            raise StorageCorrupt(f"{self._log_path} continues snapshot {base.index}, newer than {self._snapshot_path}")
        if (base.index, base.term) == (snapshot.index, snapshot.term):
            self._fd = os.open(self._log_path, os.O_RDWR)
            os.ftruncate(self._fd, loaded.valid_bytes)
            self._entries, self._size = loaded.entries, loaded.valid_bytes
        else:
            # A crash between writing a snapshot and rewriting the log: keep the entries after
            # the snapshot only if the log holds the snapshot's last entry (Raft's rule).
            at = snapshot.index - base.index - 1
            keep = 0 <= at < len(loaded.entries) and loaded.entries[at].term == snapshot.term
            self._rewrite_log(loaded.entries[at + 1 :] if keep else [])
        return self.durable_state()

    def durable_state(self) -> DurableState:
        last = self._entries[-1].index if self._entries else self._snapshot.index
        commit = max(self._snapshot.index, min(self._hard.commit, last))
        hard = HardState(self._hard.term, self._hard.vote, commit)
        return DurableState(hard, self._snapshot, tuple(self._entries))

    def _read_snapshot(self) -> Snapshot:
        try:
            raw = self._snapshot_path.read_bytes()
        except FileNotFoundError:
            return EMPTY_SNAPSHOT
        if len(raw) < _SNAPSHOT_HEADER.size:
            raise StorageCorrupt(f"{self._snapshot_path} is truncated")
        magic, index, term, crc = _SNAPSHOT_HEADER.unpack_from(raw)
        data = raw[_SNAPSHOT_HEADER.size :]
        if magic != _SNAPSHOT_MAGIC or zlib.crc32(data) != crc:
            raise StorageCorrupt(f"{self._snapshot_path} is damaged (bad magic or checksum)")
        return Snapshot(index, term, data)

    # ---------------------------------------------------------------- Ready step 1

    def needs_fsync(self, ready: Ready) -> bool:
        """Entries, snapshots, terms and votes are promises to peers; a commit index alone is not:
        Raft can relearn it, so a Ready that only moves it is written without waiting for the disk."""
        return bool(ready.entries) or ready.snapshot is not None or self.changes_term_or_vote(ready)

    def changes_term_or_vote(self, ready: Ready) -> bool:
        hard = ready.hard_state
        return hard is not None and (hard.term, hard.vote) != (self._hard.term, self._hard.vote)

    def persist(self, ready: Ready) -> None:
        """Makes the snapshot, entries and hard state of `ready` durable, with one log fsync
        (none when `needs_fsync` says the Ready promises nothing)."""
        sync = self._sync and self.needs_fsync(ready)
        if ready.snapshot is not None:
            self._install_snapshot(ready.snapshot)
        out = bytearray()
        if ready.entries:
            self._truncate_before(ready.entries[0].index)
            for entry in ready.entries:
                self._entries.append(entry)
                _append_record(out, _ENTRY.pack(b"E", entry.term, entry.index) + entry.data)
        if ready.hard_state is not None:
            self._hard = ready.hard_state
            _append_record(out, _hard_record(self._hard))
        if out:
            self._write(out, sync)

    def _truncate_before(self, first: int) -> None:
        """Forgets stored entries from `first` on; the records that replace them say the same on disk."""
        base = self._snapshot.index
        expected_next = base + len(self._entries) + 1
        if first > expected_next or first <= base:
            raise StorageCorrupt(f"entries from {first} do not continue the log ({base + 1}..{expected_next - 1})")
        del self._entries[first - base - 1 :]

    def _install_snapshot(self, snapshot: Snapshot) -> None:
        header = _SNAPSHOT_HEADER.pack(_SNAPSHOT_MAGIC, snapshot.index, snapshot.term, zlib.crc32(snapshot.data))
        write_atomically(self._snapshot_path, header + snapshot.data)
        kept: list[Entry] = []
        if self._entries and self._entries[0].index <= snapshot.index <= self._entries[-1].index:
            at = snapshot.index - self._entries[0].index
            if self._entries[at].term == snapshot.term:
                kept = self._entries[at + 1 :]
        self._snapshot = snapshot
        self._rewrite_log(kept)

    def _rewrite_log(self, entries: list[Entry]) -> None:
        """A fresh log file continuing the current snapshot, swapped in atomically."""
        out = bytearray()
        _append_record(out, _BASE.pack(b"B", self._snapshot.index, self._snapshot.term))
        for entry in entries:
            _append_record(out, _ENTRY.pack(b"E", entry.term, entry.index) + entry.data)
        _append_record(out, _hard_record(self._hard))
        write_atomically(self._log_path, bytes(out))
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self._log_path, os.O_RDWR)
        self._entries, self._size = list(entries), len(out)

    def _write(self, data: bytearray, sync: bool) -> None:
        view = memoryview(data)
        position = self._size
        while view:
            written = os.pwrite(self._fd, view, position)
            view, position = view[written:], position + written
        self._size = position
        if sync:
            os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _hard_record(hard: HardState) -> bytes:
    return _HARD.pack(b"H", hard.term, hard.vote, hard.commit)


def _append_record(out: bytearray, payload: bytes) -> None:
    out += _RECORD.pack(len(payload), zlib.crc32(payload))
    out += payload


def _read_log(raw: bytes, path: Path) -> _Loaded:
    """Every record up to the first that is torn, corrupt or out of sequence."""
    loaded = _Loaded(EMPTY_SNAPSHOT, [], HardState(), 0)
    position = 0
    seen_base = False
    while position + _RECORD.size <= len(raw):
        length, crc = _RECORD.unpack_from(raw, position)
        start = position + _RECORD.size
        payload = raw[start : start + length]
        if len(payload) != length or zlib.crc32(payload) != crc or not payload:
            break
        kind = payload[:1]
        if kind == b"B" and not seen_base and length == _BASE.size:
            _, index, term = _BASE.unpack(payload)
            loaded.base, seen_base = Snapshot(index, term), True
        elif kind == b"E" and seen_base and length >= _ENTRY.size:
            _, term, index = _ENTRY.unpack_from(payload)
            if not loaded.base.index < index <= loaded.base.index + len(loaded.entries) + 1:
                break
            del loaded.entries[index - loaded.base.index - 1 :]
            loaded.entries.append(Entry(term, index, payload[_ENTRY.size :]))
        elif kind == b"H" and seen_base and length == _HARD.size:
            _, term, vote, commit = _HARD.unpack(payload)
            loaded.hard = HardState(term, vote, commit)
        else:
            break
        position = start + length
    if not seen_base:
        raise StorageCorrupt(f"{path} does not start with a base record")
    if position != len(raw):
        _log.warning("%s: cut a torn or corrupt tail of %d bytes at offset %d", path, len(raw) - position, position)
    loaded.valid_bytes = position
    return loaded

