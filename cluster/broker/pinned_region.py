"""A segment byte range that stays readable until it has been sent.

A Fetch response may wait behind earlier responses on its connection, and
meanwhile retention, truncation or topic deletion may close the segment's file
descriptor, whose number the kernel may then give to another file. Pinning
duplicates the descriptor when the response is built, so sendfile reads the
segment the fetch saw, whatever happens to the log afterwards. The duplicate
is an ordinary file object: closed after sending, or by the garbage collector
if the response is dropped.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from cluster.broker.log.region import FileRegion


@dataclass(slots=True)
class PinnedRegion:
    file: io.FileIO
    position: int
    length: int

    def close(self) -> None:
        self.file.close()


def pin(region: FileRegion) -> PinnedRegion:
    return PinnedRegion(io.FileIO(os.dup(region.fileno()), "rb", closefd=True), region.position, region.length)
