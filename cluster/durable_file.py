"""Small files that must survive a crash whole: the old version or the new one, never half of each.

The bytes go to a temporary file that is fsynced and renamed over the old
one, then the directory is fsynced so the rename itself is durable. A caller
that is configured not to fsync (keeper's forceSync=no) passes sync=False and
keeps the atomic rename, which a crash of the process alone cannot tear.
"""

from __future__ import annotations

import os
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"


def write_atomically(path: Path, data: bytes, sync: bool = True) -> None:
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
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
