"""A disk fault as a node's process meets it: how long one write and fsync takes in its data directory."""

from __future__ import annotations

import os
import time
from pathlib import Path


def fsync_seconds(directory: Path) -> float:
    started = time.monotonic()
    fd = os.open(directory / "probe", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"x")
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.monotonic() - started
