"""The two ways keeper's disk stops being trusted, and both end the server.

A failed write or fsync (`DiskFailure`) leaves the file in an unknown state:
after a failed fsync Linux may mark the dirty pages clean, so a retry can
report success for data that never reached the disk (PostgreSQL's "fsyncgate").
Nothing that depended on the write may be acknowledged, so the server stops, as
ZooKeeper's sync thread does. Damage found when reading (`StorageCorrupt`) is
not a torn tail a crash can leave: serving from it could hand out data nobody
wrote, so the server refuses to start until an operator looks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StorageCorrupt(Exception):
    """Damage that is not a torn tail: the operator must look before the server trusts this disk."""


class DiskFailure(Exception):
    """The disk refused a read, a write or an fsync of `path`."""

    def __init__(self, action: str, path: Path, error: OSError) -> None:
        detail = f"[Errno {error.errno}] {error.strerror}" if error.strerror else str(error)
        super().__init__(f"{action} {path} failed: {detail}")
        self.path = path
        self.errno = error.errno


@contextmanager
def failing_as(action: str, path: Path) -> Iterator[None]:
    """Names the file and what was being done to it in any OSError raised inside: an fsync's error
    otherwise says neither."""
    try:
        yield
    except OSError as error:
        raise DiskFailure(action, path, error) from error
