"""The disk the fault filesystem serves: live/ is what processes see, the durable store what a
power loss leaves.

Every operation goes straight to the real files under live/ (reads cost nothing extra) and is
recorded in the durability model; an fsync copies what the model says changed into the durable
store; a loss rebuilds live/ from the store. Paths are the filesystem's own ("/dir/file").

Locking: one guard orders namespace changes (the real change and the model's) and protects the
model; each file has its own lock, held by writes and truncates while they change the file and
by an fsync while it copies, so that an fsync copies exactly the changes it then marks durable
and never blocks writes to other files.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from cluster.faultfs.durability import STRICT, Durability, LossReport
from cluster.faultfs.storage import DurableStore
from cluster.faultfs.tree import DIRECTORY, FILE

# Flags the live file is opened without: the kernel already placed appends at the end, and the
# backing file system need not share the caller's alignment rules.
_NOT_PASSED_ON = os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_TRUNC | os.O_DIRECT | os.O_ACCMODE

# libfuse renames a file unlinked (or renamed over) while open to such a name, and unlinks that
# at the last close, so that fstat and lseek keep working on it: to the durability model, and
# in listings, the rename is the unlink.
HIDDEN_PREFIX = ".fuse_hidden"


def is_hidden(path: str) -> bool:
    return path.rpartition("/")[2].startswith(HIDDEN_PREFIX)


@dataclass
class Handle:
    fd: int
    ident: int
    file_lock: threading.Lock
    directory: bool = False
    stale: bool = False
    closed: bool = False


class Disk:
    def __init__(self, state_dir: Path, entries: str = STRICT) -> None:
        self.live = state_dir / "live"
        self.live.mkdir(parents=True, exist_ok=True)
        self._prefix = str(self.live)
        self._store = DurableStore(state_dir / "durable")
        self.entries = entries
        self._model = Durability(entries)
        self._guard = threading.Lock()
        self._file_locks: dict[int, threading.Lock] = {}
        self._handles: dict[int, Handle] = {}
        self._next_handle = 1

    def adopt(self) -> None:
        """Takes what live/ already holds as durable, as a disk holds its files at power-on."""
        seen: dict[tuple[int, int], str] = {}
        with self._guard:
            for directory, dirs, files in os.walk(self._prefix):
                relative = directory[len(self._prefix):]
                for name in dirs + files:
                    self._adopt(f"{relative}/{name}", seen)
        self.sync_all()

    def real(self, path: str) -> str:
        return self._prefix + path

    def handle(self, fh: int) -> Handle:
        handle = self._handles.get(fh)
        if handle is None:
            raise OSError(errno.EBADF, "unknown file handle")
        if handle.stale:
            raise OSError(errno.EIO, "the file was open across a simulated power loss")
        return handle

    def create(self, path: str, mode: int, exclusive: bool = False) -> int:
        with self._guard:
            fd = os.open(self.real(path), os.O_RDWR | os.O_CREAT | (os.O_EXCL if exclusive else 0), mode)
            return self._open_handle(fd, self._model.create(path))

    def open(self, path: str, flags: int) -> int:
        with self._guard:
            entry = self._model.lookup(path)
            if entry is None:
                raise OSError(errno.ENOENT, path)
            fd = os.open(self.real(path), os.O_RDWR | (flags & ~_NOT_PASSED_ON))
            fh = self._open_handle(fd, entry.ident)
        if flags & os.O_TRUNC:
            self.truncate(fh, 0)
        return fh

    def opendir(self, path: str) -> int:
        with self._guard:
            entry = self._model.lookup(path)
            if entry is None or entry.kind != DIRECTORY:
                raise OSError(errno.ENOTDIR if entry else errno.ENOENT, path)
            fd = os.open(self.real(path), os.O_RDONLY | os.O_DIRECTORY)
            return self._add_handle(Handle(fd, entry.ident, threading.Lock(), directory=True))

    def release(self, fh: int) -> None:
        with self._guard:
            handle = self._handles.pop(fh, None)
        if handle is not None:
            with handle.file_lock:
                handle.closed = True
                os.close(handle.fd)

    def read(self, fh: int, size: int, offset: int) -> bytes:
        return os.pread(self.handle(fh).fd, size, offset)

    def size(self, fh: int) -> int:
        handle = self.handle(fh)
        with self._guard:
            return self._model.size(handle.ident)

    def write(self, fh: int, data: bytes, offset: int) -> int:
        handle = self.handle(fh)
        with handle.file_lock:
            written = os.pwrite(handle.fd, data, offset)
            with self._guard:
                self._model.wrote(handle.ident, offset, written)
        return written

    def truncate(self, fh: int, size: int) -> None:
        handle = self.handle(fh)
        with handle.file_lock:
            os.ftruncate(handle.fd, size)
            with self._guard:
                self._model.resized(handle.ident, size)

    def truncate_path(self, path: str, size: int) -> None:
        fh = self.open(path, os.O_WRONLY)
        try:
            self.truncate(fh, size)
        finally:
            self.release(fh)

    def fallocate(self, fh: int, offset: int, length: int) -> None:
        handle = self.handle(fh)
        with handle.file_lock:
            os.posix_fallocate(handle.fd, offset, length)
            with self._guard:
                self._model.grown(handle.ident, offset + length)

    def fsync(self, fh: int) -> None:
        handle = self.handle(fh)
        with handle.file_lock:
            self._sync_file(handle.ident, handle.fd)

    def fsync_directory(self, fh: int) -> None:
        handle = self.handle(fh)
        with self._guard:
            self._model.sync_directory(handle.ident)
            self._collect_garbage()

    def mkdir(self, path: str, mode: int) -> None:
        with self._guard:
            os.mkdir(self.real(path), mode)
            self._model.mkdir(path)

    def symlink(self, path: str, target: str) -> None:
        with self._guard:
            os.symlink(target, self.real(path))
            self._model.symlink(path, target)

    def link(self, existing: str, new: str) -> None:
        with self._guard:
            os.link(self.real(existing), self.real(new))
            self._model.link(existing, new)

    def remove(self, path: str, directory: bool) -> None:
        with self._guard:
            try:
                (os.rmdir if directory else os.unlink)(self.real(path))
            except FileNotFoundError:
                if not is_hidden(path):  # else gone with a simulated power loss
                    raise
            self._model.remove(path)

    def rename(self, old: str, new: str, replace: bool = True) -> None:
        with self._guard:
            if not replace and os.path.lexists(self.real(new)):
                raise OSError(errno.EEXIST, new)
            os.rename(self.real(old), self.real(new))
            if is_hidden(new):
                self._model.remove(old)
            else:
                self._model.rename(old, new)

    def sync_all(self) -> None:
        """Makes everything durable (LazyFS's checkpoint)."""
        with self._guard:
            live_paths = {entry.ident: path for path, entry in reversed(self._model.live_tree())
                          if entry.kind == FILE}
            open_handles = {handle.ident: handle for handle in self._handles.values() if not handle.directory}
            idents = self._model.file_idents()
        for ident in idents:
            handle = open_handles.get(ident)
            if handle is not None:
                with handle.file_lock:
                    if not handle.closed and not handle.stale:
                        self._sync_file(ident, handle.fd)
                        continue
            if ident in live_paths:
                fd = os.open(self.real(live_paths[ident]), os.O_RDONLY)
                try:
                    with self._file_lock(ident):
                        self._sync_file(ident, fd)
                finally:
                    os.close(fd)
        with self._guard:
            self._model.sync_directories()
            self._collect_garbage()

    def lose_unsynced(self, torn: bool, seed: int) -> LossReport:
        """A power loss: live/ becomes what the durable store holds. Open handles go stale."""
        with self._guard:
            plan = self._model.plan_loss(torn, seed)
            live_paths = {entry.ident: path for path, entry in reversed(self._model.live_tree())}
            for tear in plan.tears:
                if tear.ident in live_paths:
                    with open(self.real(live_paths[tear.ident]), "rb") as live_file:
                        live_file.seek(tear.offset)
                        self._store.tear(tear, live_file.read(tear.length))
            rebuilt = self.live.with_name("live.rebuilt")
            shutil.rmtree(rebuilt, ignore_errors=True)
            self._store.materialize(plan.tree, rebuilt)
            old = self.live.with_name("live.lost")
            os.rename(self.live, old)
            os.rename(rebuilt, self.live)
            shutil.rmtree(old)
            self._model.lose(plan)
            self._store.keep_only({entry.ident for _, entry in plan.tree if entry.kind == FILE})
            for handle in self._handles.values():
                handle.stale = True
            return plan.report

    def unsynced_bytes(self) -> int:
        with self._guard:
            return self._model.unsynced_bytes()

    def open_handles(self) -> int:
        with self._guard:
            return len(self._handles)

    def _sync_file(self, ident: int, fd: int) -> None:
        """Copies one file's changes into the store; the caller holds the file's lock."""
        with self._guard:
            plan = self._model.sync_plan(ident)
        if plan is None:
            return
        self._store.apply(ident, fd, plan)
        with self._guard:
            self._model.synced(ident, plan)

    def _adopt(self, path: str, seen: dict[tuple[int, int], str]) -> None:
        info = os.lstat(self.real(path))
        if os.path.islink(self.real(path)):
            self._model.symlink(path, os.readlink(self.real(path)))
        elif os.path.isdir(self.real(path)):
            self._model.mkdir(path)
        elif (info.st_dev, info.st_ino) in seen:
            self._model.link(seen[(info.st_dev, info.st_ino)], path)
        else:
            seen[(info.st_dev, info.st_ino)] = path
            self._model.wrote(self._model.create(path), 0, info.st_size)

    def _open_handle(self, fd: int, ident: int) -> int:
        return self._add_handle(Handle(fd, ident, self._file_locks.setdefault(ident, threading.Lock())))

    def _add_handle(self, handle: Handle) -> int:
        fh = self._next_handle
        self._next_handle += 1
        self._handles[fh] = handle
        return fh

    def _file_lock(self, ident: int) -> threading.Lock:
        with self._guard:
            return self._file_locks.setdefault(ident, threading.Lock())

    def _collect_garbage(self) -> None:
        still_open = {handle.ident for handle in self._handles.values()}
        dropped = self._model.forget_unreachable(still_open)
        self._store.forget(dropped)
        for ident in dropped:
            self._file_locks.pop(ident, None)
