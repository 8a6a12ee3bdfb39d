"""The durable copies: one file per file id under durable/, what a power loss leaves of each file.

An fsync copies only the changed ranges, in the kernel (copy_file_range), so syncing a log
segment after an append costs the append's bytes, not the segment's. A loss rebuilds the live
tree from these copies.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from cluster.faultfs.durability import SyncPlan, Tear
from cluster.faultfs.tree import DIRECTORY, FILE, Tree


class DurableStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, ident: int) -> str:
        return f"{self._root}/{ident}"

    def apply(self, ident: int, source_fd: int, plan: SyncPlan) -> None:
        """Brings the durable copy of one file to the live file's state (source_fd)."""
        fd = os.open(self.path_of(ident), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if plan.shrunk_to is not None:
                os.ftruncate(fd, plan.shrunk_to)
            for start, end in plan.ranges:
                _copy_range(source_fd, fd, start, min(end, plan.size))
            os.ftruncate(fd, plan.size)
            os.fchmod(fd, stat.S_IMODE(os.fstat(source_fd).st_mode))
        finally:
            os.close(fd)

    def tear(self, tear: Tear, data: bytes) -> None:
        """Lays the surviving prefix of a file's last write over its durable copy."""
        fd = os.open(self.path_of(tear.ident), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, tear.offset)
        finally:
            os.close(fd)

    def materialize(self, tree: Tree, target: Path) -> None:
        """Builds a directory tree holding the durable state: what the machine finds after the loss."""
        target.mkdir()
        first_path: dict[int, str] = {}
        for path, entry in tree:
            real = f"{target}{path}"
            if entry.kind == DIRECTORY:
                os.mkdir(real)
            elif entry.kind != FILE:
                os.symlink(entry.target, real)
            elif entry.ident in first_path:
                os.link(first_path[entry.ident], real)
            else:
                first_path[entry.ident] = real
                self._restore(entry.ident, real)

    def keep_only(self, idents: set[int]) -> None:
        for name in os.listdir(self._root):
            if int(name) not in idents:
                os.unlink(f"{self._root}/{name}")

    def forget(self, idents: list[int]) -> None:
        for ident in idents:
            try:
                os.unlink(self.path_of(ident))
            except FileNotFoundError:
                pass

    def _restore(self, ident: int, real: str) -> None:
        source = self.path_of(ident)
        if os.path.exists(source):
            shutil.copyfile(source, real)
            shutil.copymode(source, real)
        else:
            os.close(os.open(real, os.O_WRONLY | os.O_CREAT, 0o644))


def _copy_range(source_fd: int, target_fd: int, start: int, end: int) -> None:
    offset = start
    while offset < end:
        copied = os.copy_file_range(source_fd, target_fd, end - offset, offset, offset)
        if copied == 0:
            return
        offset += copied
