"""A disk under a test's control: the os-level calls the log makes on files below a root directory
can fail (a byte budget that runs out as ENOSPC, EIO on writes or fsyncs), and every call is
recorded so a test can tell what a power loss would keep under strict POSIX rules: a file's
bytes only once it was fsynced after its last change, a name only once its directory was
fsynced after the name appeared."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Disk:
    root: Path
    budget: int | None = None
    """Bytes writes may still add before they fail (a write that crosses it is cut short)."""
    budget_error: int = errno.ENOSPC
    """errno of the writes past the budget: ENOSPC, or EIO for a torn write on a failing disk."""
    write_error: int | None = None
    """errno every write below root fails with."""
    failing_suffix: tuple[str, int] | None = None
    """(suffix, errno): writes to files whose names end so fail (".tmp": checkpoint files)."""
    fsync_error: int | None = None
    """errno every fsync below root fails with."""
    events: list[tuple[str, Path]] = field(default_factory=list)
    """("create" | "mkdir" | "write" | "truncate" | "fsync" | "unlink" | "rename-to", path), in order."""

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Disk:
        real_open, real_write, real_fsync = os.open, os.write, os.fsync
        real_mkdir, real_unlink, real_replace, real_ftruncate = os.mkdir, os.unlink, os.replace, os.ftruncate

        def fake_open(path, flags, mode=0o777, *, dir_fd=None):
            target = Path(path)
            created = bool(flags & os.O_CREAT) and not target.exists()
            fd = real_open(path, flags, mode, dir_fd=dir_fd)
            if created and self._watched(target):
                self.events.append(("create", target.resolve()))
            return fd

        def fake_write(fd, data):
            path = _path_of(fd)
            if not self._watched(path):
                return real_write(fd, data)
            if self.write_error is not None:
                raise OSError(self.write_error, os.strerror(self.write_error))
            if self.failing_suffix is not None and path.name.endswith(self.failing_suffix[0]):
                raise OSError(self.failing_suffix[1], os.strerror(self.failing_suffix[1]))
            if self.budget is not None:
                if self.budget <= 0:
                    raise OSError(self.budget_error, os.strerror(self.budget_error))
                data = memoryview(data)[: self.budget]
            written = real_write(fd, data)
            if self.budget is not None:
                self.budget -= written
            self.events.append(("write", path))
            return written

        def fake_fsync(fd):
            path = _path_of(fd)
            if self._watched(path) and self.fsync_error is not None:
                raise OSError(self.fsync_error, os.strerror(self.fsync_error))
            real_fsync(fd)
            if self._watched(path):
                self.events.append(("fsync", path))

        def fake_ftruncate(fd, length):
            real_ftruncate(fd, length)
            if self._watched(_path_of(fd)):
                self.events.append(("truncate", _path_of(fd)))

        def fake_mkdir(path, mode=0o777, *, dir_fd=None):
            real_mkdir(path, mode, dir_fd=dir_fd)
            if self._watched(Path(path)):
                self.events.append(("mkdir", Path(path).resolve()))

        def fake_unlink(path, *, dir_fd=None):
            real_unlink(path, dir_fd=dir_fd)
            if self._watched(Path(path)):
                self.events.append(("unlink", Path(path).resolve()))

        def fake_replace(source, target, *, src_dir_fd=None, dst_dir_fd=None):
            real_replace(source, target, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
            if self._watched(Path(target)):
                self.events.append(("rename-to", Path(target).resolve()))

        for name, fake in [("open", fake_open), ("write", fake_write), ("fsync", fake_fsync),
                           ("ftruncate", fake_ftruncate), ("mkdir", fake_mkdir), ("unlink", fake_unlink),
                           ("replace", fake_replace)]:
            monkeypatch.setattr(os, name, fake)
        return self

    def heal(self) -> None:
        self.budget = self.write_error = self.fsync_error = self.failing_suffix = None
        self.budget_error = errno.ENOSPC

    def is_durable(self, path: Path) -> bool:
        """Whether a power loss now would keep `path`'s bytes and its name (and its ancestors' names,
        up to root), by the events so far."""
        path = path.resolve()
        last_change = max((i for i, (kind, p) in enumerate(self.events) if p == path and kind in ("write", "truncate")),
                          default=-1)
        if path.is_file() and last_change > self._last("fsync", path):
            return False
        entry = path
        while entry != self.root.resolve():
            appeared = max((i for i, (kind, p) in enumerate(self.events) if p == entry and kind in ("create", "mkdir", "rename-to")),
                           default=-1)
            if appeared > self._last("fsync", entry.parent):
                return False
            entry = entry.parent
        return True

    def is_durably_gone(self, path: Path) -> bool:
        """Whether a power loss now would not bring `path`'s name back."""
        path = path.resolve()
        return not path.exists() and self._last("unlink", path) < self._last("fsync", path.parent)

    def _last(self, kind: str, path: Path) -> int:
        return max((i for i, (k, p) in enumerate(self.events) if k == kind and p == path), default=-1)

    def _watched(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.root.resolve())


def _path_of(fd: int) -> Path:
    return Path(os.readlink(f"/proc/self/fd/{fd}")).resolve()
