"""A fault filesystem mounted for one test, on the host; taken down after it whatever happened."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.faultfs import DiskControl, FaultMount, fuse_unavailable
from tests.facilities import require


@dataclass
class Mounted:
    path: Path
    control: DiskControl
    mount: FaultMount


def require_fuse() -> None:
    reason = fuse_unavailable()
    require(reason is None, "FUSE", reason or "")


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Mounted]:
    require_fuse()
    mount = FaultMount(tmp_path / "node" / "data", tmp_path / "node" / "faultfs", owner="test")
    control = mount.mount()
    try:
        yield Mounted(mount.mountpoint, control, mount)
    finally:
        mount.unmount()


def fsync_path(path: Path) -> None:
    """fsync of a file or a directory, as a process makes its changes durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, sync: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
