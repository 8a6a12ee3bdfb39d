"""Small files that must survive a crash whole: the old version or the new one, never half of each.

The bytes go to a temporary file that is fsynced and renamed over the old
one, then the directory is fsynced so the rename itself is durable. A name
is durable only once its directory is fsynced (POSIX promises no more), so
directories are created through make_directory, which fsyncs their parents.
A caller that is configured not to fsync (keeper's forceSync=no) passes
sync=False and keeps the atomic rename, which a crash of the process alone
cannot tear.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"


def write_atomically(path: Path, data: bytes, sync: bool = True) -> None:
    """Replaces `path` with `data`; if that fails (a full disk), the old file is untouched and the
    temporary file is removed."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    if sync:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Makes created, renamed and deleted names durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_directory(directory: Path) -> bool:
    """Creates `directory` and any missing parents, each made durable in its parent; False if it existed."""
    if directory.is_dir():
        return False
    make_directory(directory.parent)
    try:
        directory.mkdir()
    except FileExistsError:
        return False
    fsync_directory(directory.parent)
    return True
