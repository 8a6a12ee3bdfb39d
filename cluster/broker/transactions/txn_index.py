"""The aborted-transaction index (.txnindex) of each segment, in Kafka's format.

Each entry (34 bytes: version 0, producer id, first offset, last offset, last stable offset) is an
aborted transaction, in the file of the segment holding its abort marker. The partition keeps the
same list in memory and answers fetches from it; the files are hints, like .index and .timeindex:
never fsynced, rewritten at every open and truncation when they differ from the list rebuilt then
(from the producer snapshot and the markers after it), so a lost or damaged file costs nothing. They let Kafka's tools and a reader of the directory see what
was aborted.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

from cluster.broker.log.segment import TXN_INDEX_SUFFIX, file_stem
from cluster.broker.transactions.partition_state import AbortedTransaction

ENTRY = struct.Struct(">hqqqq")
_VERSION = 0
_log = logging.getLogger(__name__)


class TxnIndexError(ValueError):
    """A .txnindex file whose length or entry version is not Kafka's."""


def encode(entries: Iterable[AbortedTransaction]) -> bytes:
    return b"".join(ENTRY.pack(_VERSION, e.producer_id, e.first_offset, e.last_offset, e.last_stable_offset)
                    for e in entries)


def decode(data: bytes) -> list[AbortedTransaction]:
    if len(data) % ENTRY.size:
        raise TxnIndexError(f"{len(data)} bytes is not a whole number of {ENTRY.size}-byte entries")
    entries = []
    for version, producer_id, first, last, stable in ENTRY.iter_unpack(data):
        if version != _VERSION:
            raise TxnIndexError(f"entry version {version}")
        entries.append(AbortedTransaction(producer_id, first, last, stable))
    return entries


def path_of(directory: Path, segment_base: int) -> Path:
    return directory / (file_stem(segment_base) + TXN_INDEX_SUFFIX)


def append(directory: Path, segment_base: int, entry: AbortedTransaction) -> None:
    """After an abort marker is appended to the segment (the active one)."""
    _as_hint(lambda: _append_bytes(path_of(directory, segment_base), encode([entry])), directory)


def store(directory: Path, segment_bases: list[int], aborted: Iterable[AbortedTransaction]) -> None:
    """Makes every segment's file hold exactly its entries (none: no file), writing only those that differ."""
    by_segment: dict[int, list[AbortedTransaction]] = {base: [] for base in segment_bases}
    for entry in aborted:
        holder = max((base for base in segment_bases if base <= entry.last_offset), default=None)
        if holder is not None:
            by_segment[holder].append(entry)
    for base, entries in by_segment.items():
        _as_hint(lambda: _store_file(path_of(directory, base), encode(entries)), directory)


def _store_file(path: Path, wanted: bytes) -> None:
    if not wanted:
        path.unlink(missing_ok=True)
    elif not path.exists() or path.read_bytes() != wanted:
        path.write_bytes(wanted)


def _append_bytes(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def _as_hint(write: Callable[[], None], directory: Path) -> None:
    """A write that fails (a full disk, say) is logged: the entries are rewritten at the next open."""
    try:
        write()
    except OSError as error:
        _log.warning("%s: a .txnindex file was not written (%s); it is rewritten when the log next opens",
                     directory, error)
