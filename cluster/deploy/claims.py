"""Claims that hold across processes: an exclusive lock on one file per claimable thing.

Several logquake processes may share a machine (pytest-xdist workers, a run beside a `cluster up`,
two runs at once), and some things must be used by one of them at a time: a block of loopback
addresses (local.py), a block of ports (ports.py). The claim is an flock on the thing's file. The
kernel ends it once every descriptor of that open file is closed, in the claimant and in any child
it handed the descriptor to, so a crashed process never leaves a stale claim; and since each claim
opens the file anew, two claims of one thing exclude each other even within one process.
"""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path
from typing import IO

CLAIMS_DIR = Path(tempfile.gettempdir())
"""Where each kind of claim keeps its directory of files."""


def claim(directory: Path, name: str) -> IO[bytes] | None:
    """The locked claim file of `name`, claimed until it is closed; None while someone else holds the claim."""
    directory.mkdir(exist_ok=True)
    file = open(directory / name, "ab")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file
