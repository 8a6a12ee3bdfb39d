"""Raft's durable state on disk: a snapshot file and an append-only log, one fsync per Ready.

The log (format and recovery in log_file) holds entries and hard-state records in the order
they were persisted, so a Ready is one write and one fsync however many entries it carries
(group commit). The file only grows: an entry whose index is already in the log replaces that
entry and everything after it when the file is read back, so no cut can take an earlier hard
state with it.

A snapshot is written whole to its own file (durable_file) before the log is rewritten to
continue from it, so a crash between the two leaves a log that starts before the snapshot,
which loading reconciles by Raft's own rule.

With `sync` (zoo.cfg forceSync=yes, the default) every Ready that promises something is durable
before `persist` returns: the log is fdatasynced, and each file or directory keeper creates or
renames is followed by an fsync of its directory, since only that makes a new name durable.
With forceSync=no keeper does what ZooKeeper does with it: it writes, and never fsyncs. Any
failed read, write or fsync raises DiskFailure naming the file; the server then stops.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

from cluster.durable_file import fsync_directory, write_atomically
from cluster.keeper.raft import EMPTY_SNAPSHOT, DurableState, Entry, HardState, Ready, Snapshot
from cluster.keeper.server.disk_errors import StorageCorrupt, failing_as
from cluster.keeper.server.log_file import base_record, entry_record, hard_record, read_log

LOG_NAME = "raft.log"
SNAPSHOT_NAME = "raft.snapshot"

_SNAPSHOT_HEADER = struct.Struct(">8sQQQ")  # magic, index, term, length of the data that follows
_SNAPSHOT_CRC = struct.Struct(">I")  # CRC-32 of header and data, last
_SNAPSHOT_MAGIC = b"KEEPSNP2"

_log = logging.getLogger(__name__)


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
        with failing_as("loading", self._log_path):
            return self._load()

    def _load(self) -> DurableState:
        self._make_directory(self._log_path.parent)
        self._make_directory(self._snapshot_path.parent)
        self._snapshot = self._read_snapshot()
        if not self._log_path.exists():
            if self._snapshot != EMPTY_SNAPSHOT:
                raise StorageCorrupt(f"{self._snapshot_path} exists but {self._log_path}, which holds the term "
                                     "and vote, does not")
            self._rewrite_log([])
            return self.durable_state()
        with failing_as("reading", self._log_path):
            raw = self._log_path.read_bytes()
        loaded = read_log(raw, self._log_path)
        self._hard = loaded.hard
        base, snapshot = loaded.base, self._snapshot
        if base.index > snapshot.index:
            raise StorageCorrupt(f"{self._log_path} continues snapshot {base.index}, newer than {self._snapshot_path}")
        if (base.index, base.term) == (snapshot.index, snapshot.term):
            with failing_as("cutting the torn tail of", self._log_path):
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

    def _make_directory(self, directory: Path) -> None:
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for created in reversed(missing):
            with failing_as("creating", created):
                created.mkdir(exist_ok=True)
                if self._sync:
                    fsync_directory(created.parent)

    def _read_snapshot(self) -> Snapshot:
        path = self._snapshot_path
        if not path.exists():
            return EMPTY_SNAPSHOT
        with failing_as("reading", path):
            raw = path.read_bytes()
        if len(raw) < _SNAPSHOT_HEADER.size + _SNAPSHOT_CRC.size:
            raise StorageCorrupt(f"{path} is truncated ({len(raw)} bytes)")
        magic, index, term, length = _SNAPSHOT_HEADER.unpack_from(raw)
        (crc,) = _SNAPSHOT_CRC.unpack_from(raw, len(raw) - _SNAPSHOT_CRC.size)
        body = raw[: -_SNAPSHOT_CRC.size]
        if magic != _SNAPSHOT_MAGIC or len(body) != _SNAPSHOT_HEADER.size + length or zlib.crc32(body) != crc:
            raise StorageCorrupt(f"{path} is damaged (bad magic, length or checksum)")
        return Snapshot(index, term, body[_SNAPSHOT_HEADER.size :])

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
        (none when `needs_fsync` says the Ready promises nothing, or without forceSync)."""
        sync = self._sync and self.needs_fsync(ready)
        if ready.snapshot is not None:
            self._install_snapshot(ready.snapshot)
        out = bytearray()
        if ready.entries:
            self._truncate_before(ready.entries[0].index)
            for entry in ready.entries:
                self._entries.append(entry)
                out += entry_record(entry)
        if ready.hard_state is not None:
            self._hard = ready.hard_state
            out += hard_record(self._hard)
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
        body = _SNAPSHOT_HEADER.pack(_SNAPSHOT_MAGIC, snapshot.index, snapshot.term, len(snapshot.data)) + snapshot.data
        with failing_as("writing", self._snapshot_path):
            write_atomically(self._snapshot_path, body + _SNAPSHOT_CRC.pack(zlib.crc32(body)), sync=self._sync)
        kept: list[Entry] = []
        if self._entries and self._entries[0].index <= snapshot.index <= self._entries[-1].index:
            at = snapshot.index - self._entries[0].index
            if self._entries[at].term == snapshot.term:
                kept = self._entries[at + 1 :]
        self._snapshot = snapshot
        self._rewrite_log(kept)

    def _rewrite_log(self, entries: list[Entry]) -> None:
        """A fresh log file continuing the current snapshot, swapped in atomically."""
        out = bytearray(base_record(self._snapshot.index, self._snapshot.term))
        for entry in entries:
            out += entry_record(entry)
        out += hard_record(self._hard)
        with failing_as("writing", self._log_path):
            write_atomically(self._log_path, bytes(out), sync=self._sync)
            self.close()
            self._fd = os.open(self._log_path, os.O_RDWR)
        self._entries, self._size = list(entries), len(out)

    def _write(self, data: bytearray, sync: bool) -> None:
        view = memoryview(data)
        position = self._size
        with failing_as("writing", self._log_path):
            while view:
                written = os.pwrite(self._fd, view, position)
                view, position = view[written:], position + written
        self._size = position
        if sync:
            with failing_as("fsyncing", self._log_path):
                os.fdatasync(self._fd)

    def close(self) -> None:
        """Everything that matters was fsynced (or, without forceSync, is forceSync's to lose), so
        an error from close changes nothing; it is logged, not raised, so a stop always finishes."""
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        try:
            os.close(fd)
        except OSError as error:
            _log.warning("closing %s: %s", self._log_path, error)
