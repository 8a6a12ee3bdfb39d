"""A byte range of a segment file, handed to os.sendfile without passing through Python."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileRegion:
    """Whole batches at [position, position + length) of an open segment file.

    Valid until the log next deletes or truncates that segment (retention,
    truncation): the broker sends it before handling the next request.
    `next_offset` is where the following read continues.
    """

    fd: int
    position: int
    length: int
    next_offset: int

    def fileno(self) -> int:
        return self.fd

    def read_bytes(self) -> bytes:
        """The region's bytes, for tests and tools; the broker uses sendfile instead."""
        parts, done = [], 0
        while done < self.length:
            part = os.pread(self.fd, self.length - done, self.position + done)
            if not part:
                raise EOFError(f"segment file ended {self.length - done} bytes before the region's end")
            parts.append(part)
            done += len(part)
        return b"".join(parts)
