"""The FUSE side: libfuse3's high-level operations, each passed through the fault gate to the disk.

Attribute and entry timeouts are 0 and the kernel keeps no page cache across opens (no
keep_cache, no writeback cache), so every process sees the disk's current state, also after a
simulated power loss. With nullpath_ok, operations on open files get no path (libfuse need not
build one) and work on our handles, so they keep working after a rename. A file unlinked while
open is renamed by libfuse to a hidden name until its last close (so that fstat still works on
it); listings leave those names out and the durability model counts the rename as the unlink.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
import time
from typing import Any

os.environ["FUSE_LIBRARY_NAME"] = "fuse3"  # mfusepy prefers libfuse2 when both are installed
import mfusepy  # noqa: E402  (needs the variable above when it loads the library)

from cluster.faultfs.disk import HIDDEN_PREFIX, Disk  # noqa: E402
from cluster.faultfs.faults import FaultGate  # noqa: E402

SUBTYPE = "logquake-faultfs"
_UTIME_NOW = (1 << 30) - 1
_UTIME_OMIT = (1 << 30) - 2
_STAT_FIELDS = ("st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size", "st_blocks", "st_blksize")
_RENAME_NOREPLACE = 1
_worker = threading.local()


class FaultOperations(mfusepy.Operations):
    use_ns = True

    def __init__(self, disk: Disk, gate: FaultGate) -> None:
        self._disk = disk
        self._gate = gate

    def init_with_config(self, conn_info: Any, config_3: Any) -> None:
        config_3.entry_timeout = 0
        config_3.attr_timeout = 0
        config_3.negative_timeout = 0
        config_3.nullpath_ok = 1
        config_3.kernel_cache = 0
        config_3.auto_cache = 0
        config_3.direct_io = 0

    def getattr(self, path: str | None, fh: int | None = None) -> dict[str, Any]:
        info = os.fstat(self._disk.handle(fh).fd) if fh is not None else os.lstat(self._disk.real(path or "/"))
        attributes = {name: getattr(info, name) for name in _STAT_FIELDS}
        attributes.update(st_atime=info.st_atime_ns, st_mtime=info.st_mtime_ns, st_ctime=info.st_ctime_ns)
        return attributes

    def access(self, path: str, amode: int) -> int:
        if not os.path.lexists(self._disk.real(path)):
            raise OSError(errno.ENOENT, path)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        info = os.statvfs(self._disk.live)
        free = {"f_bfree": info.f_bfree, "f_bavail": info.f_bavail}
        remaining = self._gate.remaining_budget()
        if remaining is not None:
            free = {name: min(blocks, remaining // info.f_frsize) for name, blocks in free.items()}
        return {"f_bsize": info.f_bsize, "f_frsize": info.f_frsize, "f_blocks": info.f_blocks,
                "f_files": info.f_files, "f_ffree": info.f_ffree, "f_favail": info.f_favail,
                "f_namemax": info.f_namemax, **free}

    def create(self, path: str, mode: int, flags: int) -> int:
        self._gate.enter("write")
        fh = self._disk.create(path, mode, exclusive=bool(flags & os.O_EXCL))
        self._own(path)
        return fh

    def open(self, path: str, flags: int) -> int:
        if flags & os.O_TRUNC:
            self._gate.enter("write")
        return self._disk.open(path, flags)

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        self._gate.enter("read")
        return self._disk.read(fh, size, offset)

    def write(self, path: str | None, data: bytes, offset: int, fh: int) -> int:
        self._gate.enter("write")
        if self._gate.remaining_budget() is not None:
            growth = offset + len(data) - self._disk.size(fh)
            admitted = self._gate.admit(len(data), growth, partial=True)
            data = data[:admitted] if admitted < len(data) else data
        return self._disk.write(fh, data, offset)

    def truncate(self, path: str | None, length: int, fh: int | None = None) -> int:
        self._gate.enter("write")
        size = self._disk.size(fh) if fh is not None else os.stat(self._disk.real(path or "/")).st_size
        self._gate.admit(length - size, length - size, partial=False)
        if fh is not None:
            self._disk.truncate(fh, length)
        else:
            self._disk.truncate_path(path or "/", length)
        return 0

    def fallocate(self, path: str | None, mode: int, offset: int, size: int, fh: int) -> int:
        if mode != 0:
            raise OSError(errno.EOPNOTSUPP, "only plain fallocate (mode 0) is supported")
        self._gate.enter("write")
        growth = offset + size - self._disk.size(fh)
        self._gate.admit(growth, growth, partial=False)
        self._disk.fallocate(fh, offset, size)
        return 0

    def flush(self, path: str | None, fh: int) -> int:
        return 0

    def release(self, path: str | None, fh: int) -> int:
        self._disk.release(fh)
        return 0

    def fsync(self, path: str | None, datasync: int, fh: int) -> int:
        self._gate.enter("fsync")
        self._disk.fsync(fh)
        return 0

    def opendir(self, path: str) -> int:
        return self._disk.opendir(path)

    def readdir(self, path: str | None, fh: int) -> list[str]:
        return [".", "..", *(name for name in os.listdir(self._disk.handle(fh).fd)
                             if not name.startswith(HIDDEN_PREFIX))]

    def releasedir(self, path: str | None, fh: int) -> int:
        self._disk.release(fh)
        return 0

    def fsyncdir(self, path: str | None, datasync: int, fh: int) -> int:
        self._gate.enter("fsync")
        self._disk.fsync_directory(fh)
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        self._gate.enter("write")
        self._disk.mkdir(path, mode)
        self._own(path)
        return 0

    def rmdir(self, path: str) -> int:
        self._disk.remove(path, directory=True)
        return 0

    def unlink(self, path: str) -> int:
        self._disk.remove(path, directory=False)
        return 0

    def rename(self, old: str, new: str, flags: int = 0) -> int:
        if flags & ~_RENAME_NOREPLACE:
            raise OSError(errno.EINVAL, "only RENAME_NOREPLACE is supported")
        self._disk.rename(old, new, replace=not flags & _RENAME_NOREPLACE)
        return 0

    def link(self, target: str, source: str) -> int:
        self._disk.link(source, target)
        return 0

    def symlink(self, target: str, source: str) -> int:
        self._disk.symlink(target, source)
        self._own(target)
        return 0

    def readlink(self, path: str) -> str:
        return os.readlink(self._disk.real(path))

    def chmod(self, path: str | None, mode: int) -> int:
        os.chmod(self._disk.real(path or "/"), mode)
        return 0

    def chown(self, path: str | None, uid: int, gid: int) -> int:
        os.lchown(self._disk.real(path or "/"), uid, gid)
        return 0

    def utimens(self, path: str | None, times: tuple[int | None, int | None] | None = None) -> int:
        """times in nanoseconds, None for a time to keep (UTIME_OMIT); no times means now."""
        real = self._disk.real(path or "/")
        if times is None:
            os.utime(real, follow_symlinks=False)
            return 0
        current = os.lstat(real)
        atime = current.st_atime_ns if times[0] is None else times[0]
        mtime = current.st_mtime_ns if times[1] is None else times[1]
        os.utime(real, ns=(atime, mtime), follow_symlinks=False)
        return 0

    def _own(self, path: str) -> None:
        """Gives what a caller created to the caller, as a kernel file system would."""
        uid, gid, _ = mfusepy.fuse_get_context()
        if os.geteuid() == 0 and (uid, gid) != (0, 0):
            os.lchown(self._disk.real(path), uid, gid)


class _Fuse(mfusepy.FUSE):
    """mfusepy's adapter, passing on what its libfuse3 wrappers drop or garble: the file handle
    of a truncate (ftruncate of an open, maybe unlinked, file), the flags of a rename, and
    utimensat's UTIME_NOW and UTIME_OMIT.

    libfuse's worker threads are not Python's: a ctypes callback on such a thread creates and
    destroys a Python thread state each time, which cost most of a write's time. Each worker
    keeps the first one it gets (an extra PyGILState_Ensure never released)."""

    def _wrapper(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_worker, "pinned", False):
            ctypes.pythonapi.PyGILState_Ensure()
            _worker.pinned = True
        return super()._wrapper(func, *args, **kwargs)

    def truncate_fuse_3(self, path: bytes | None, length: int, fip: Any) -> int:
        fh = fip.contents.fh if fip else None
        return self.operations.truncate(None if path is None else path.decode(self.encoding, self.errors),
                                        length, fh)

    def rename_fuse_3(self, old: bytes, new: bytes, flags: int) -> int:
        return self.operations.rename(old.decode(self.encoding, self.errors),
                                      new.decode(self.encoding, self.errors), flags)


    def utimens_fuse_3(self, path: bytes | None, buf: Any, fip: Any) -> int:
        times = None
        if buf:
            now = time.time_ns()
            times = tuple(_nanoseconds(spec, now) for spec in (buf.contents.actime, buf.contents.modtime))
        return self.operations.utimens(None if path is None else path.decode(self.encoding, self.errors),
                                       times)


def _nanoseconds(spec: Any, now: int) -> int | None:
    if spec.tv_nsec == _UTIME_NOW:
        return now
    if spec.tv_nsec == _UTIME_OMIT:
        return None
    return spec.tv_sec * 10**9 + spec.tv_nsec


def serve(operations: FaultOperations, mountpoint: str, fsname: str) -> None:
    """Runs the file system in this thread until it is unmounted (or the process told to stop)."""
    _Fuse(operations, mountpoint, foreground=True, allow_other=True, fsname=fsname, subtype=SUBTYPE)
