"""Producer ids that stay unique across broker restarts.

A reused producer id would make a new producer's first batches look like
retries of an old producer's batches still in the log, and they would be
dropped as duplicates. Ids are therefore handed out from blocks whose upper
end is made durable before the first id of the block is used: after a crash
some ids are skipped, never repeated.
"""

from __future__ import annotations

import os
from pathlib import Path

from cluster.durable_file import write_atomically

BLOCK_SIZE = 1000
FILE_NAME = "producer-id-block"


class ProducerIdError(RuntimeError):
    """The reservation file is unreadable or cannot be written; ids cannot be handed out safely."""


class ProducerIdAllocator:
    def __init__(self, directory: str | os.PathLike[str], at_least: int = 0) -> None:
        """`at_least` is one past the highest id found in the logs, a second guard against reuse."""
        self._path = Path(directory) / FILE_NAME
        self._next = max(self._reserved_up_to(), at_least)
        self._block_end = self._next

    def allocate(self) -> int:
        if self._next >= self._block_end:
            self._reserve(self._next + BLOCK_SIZE)
        allocated = self._next
        self._next += 1
        return allocated

    def _reserved_up_to(self) -> int:
        try:
            text = self._path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as error:
            raise ProducerIdError(f"cannot read {self._path}: {error}") from None
        if not text.isdigit():
            raise ProducerIdError(f"{self._path} holds {text[:40]!r}, expected a non-negative integer")
        return int(text)

    def _reserve(self, block_end: int) -> None:
        try:
            write_atomically(self._path, f"{block_end}\n".encode("ascii"))
        except OSError as error:
            raise ProducerIdError(f"cannot reserve producer ids in {self._path}: {error}") from None
        self._block_end = block_end
