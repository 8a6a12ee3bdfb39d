"""A fault filesystem mounted for one test, on the host; taken down after it whatever happened."""

from __future__ import annotations

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
