"""A partition directory's producer snapshot files (`<offset>.snapshot`, named like segments): which to
trust, and which go when the log is cut.

A snapshot at offset S describes the state after every batch below S, so it is usable only while
the log still holds those batches unchanged and the ones from S on: S between the first segment's
base and the log end. The log calls these functions wherever it moves either bound (retention,
truncation, a full restart, recovery), so a snapshot describing batches that are gone, or that a
truncation replaced, never outlives the change. Every deletion is made durable at once: a snapshot
that came back after a crash could describe batches written again differently since.

A snapshot that cannot be read (damaged, cut short, another version) is an error worth a log
message but costs no data: it is removed and the next older one, or a full scan, is used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from cluster import durable_file
from cluster.broker.log.producer_snapshot import ProducerSnapshot, SnapshotError, decode, encode
from cluster.broker.log.segment import file_stem

SUFFIX = ".snapshot"
FILE_NAME = re.compile(r"^(\d{20})\.snapshot$")

_log = logging.getLogger(__name__)


def path_of(directory: Path, offset: int) -> Path:
    return directory / (file_stem(offset) + SUFFIX)


def offsets(directory: Path) -> list[int]:
    """The offsets of the snapshot files present, ascending."""
    return sorted(int(match.group(1)) for match in map(FILE_NAME.match, (p.name for p in directory.iterdir())) if match)


def write(directory: Path, snapshot: ProducerSnapshot, segment_bases: Iterable[int]) -> None:
    """Writes the snapshot durably (whole or not at all), then removes older ones taken at no segment's
    base (clean shutdowns' snapshots): those at segment bases are kept for truncations to go back to,
    and go with their segments."""
    durable_file.write_atomically(path_of(directory, snapshot.offset), encode(snapshot))
    bases = set(segment_bases)
    _delete(directory, [offset for offset in offsets(directory) if offset < snapshot.offset and offset not in bases],
            "a newer snapshot replaces it")


def newest(directory: Path, lowest: int, highest: int) -> ProducerSnapshot | None:
    """The newest intact snapshot between `lowest` and `highest`; unreadable ones on the way are removed."""
    for offset in reversed(offsets(directory)):
        if not lowest <= offset <= highest:
            continue
        path = path_of(directory, offset)
        try:
            return _read(path, offset)
        except (OSError, SnapshotError) as error:
            _log.error("%s: producer snapshot %s is unusable (%s); it is removed and an older snapshot or a "
                       "scan of the log is used instead", directory, path.name, error)
            path.unlink(missing_ok=True)
            durable_file.fsync_directory(directory)
    return None


def _read(path: Path, offset: int) -> ProducerSnapshot:
    snapshot = decode(path.read_bytes())
    if snapshot.offset != offset:
        raise SnapshotError(f"it holds the state at offset {snapshot.offset}, not at {offset} as its name says")
    return snapshot


def delete_outside(directory: Path, lowest: int, highest: int, why: str) -> None:
    """Removes the snapshots below `lowest` or above `highest`, which the log's batches no longer back."""
    _delete(directory, [offset for offset in offsets(directory) if not lowest <= offset <= highest], why)


def delete_all(directory: Path, why: str) -> None:
    _delete(directory, offsets(directory), why)


def _delete(directory: Path, doomed: list[int], why: str) -> None:
    for offset in doomed:
        _log.info("%s: removing producer snapshot %s: %s", directory, path_of(directory, offset).name, why)
        path_of(directory, offset).unlink(missing_ok=True)
    if doomed:
        durable_file.fsync_directory(directory)
