"""Producer ids that stay unique across broker restarts.

A reused producer id would make a new producer's first batches look like
retries of an old producer's batches still in the log, and they would be
dropped as duplicates. Ids are therefore handed out from blocks whose upper
end is made durable before the first id of the block is used: after a crash
some ids are skipped, never repeated. The block end is a checkpoint file with
a checksum: a flipped digit could lower it and repeat ids. A corrupt file
cannot say how far earlier blocks went, so ids then restart at the current
time in milliseconds, far above any block handed out before (each broker start
takes one block of a thousand), rather than trust it or refuse to start.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from cluster.broker.log import checkpoint

BLOCK_SIZE = 1000
FILE_NAME = "producer-id-block"

_log = logging.getLogger(__name__)


class ProducerIdAllocator:
    def __init__(self, directory: str | os.PathLike[str], at_least: int = 0) -> None:
        """`at_least` is one past the highest id found in the logs, a second guard against reuse."""
        self._path = Path(directory) / FILE_NAME
        self._next = max(self._reserved_up_to(), at_least)
        self._block_end = self._next

    def allocate(self) -> int:
        """The next id; raises OSError if its block cannot be reserved (nothing is handed out then)."""
        if self._next >= self._block_end:
            self._reserve(self._next + BLOCK_SIZE)
        allocated = self._next
        self._next += 1
        return allocated

    def _reserved_up_to(self) -> int:
        try:
            entries = checkpoint.read(self._path, 1)
        except checkpoint.CheckpointError as error:
            restart = time.time_ns() // 1_000_000
            _log.error("%s is corrupt (%s) and not trusted: producer ids restart at %d, the time in milliseconds",
                       self._path, error, restart)
            return restart
        return max(entries[0][0], 0) if entries else 0

    def _reserve(self, block_end: int) -> None:
        checkpoint.write(self._path, [(block_end,)])
        self._block_end = block_end
