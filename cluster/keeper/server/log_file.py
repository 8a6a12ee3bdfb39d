"""raft.log's bytes: checksummed records, and how damage is judged when the log is read back.

A record is its payload's length and CRC-32, then the payload: a base record first (the index
and term just before the first entry, i.e. the snapshot the log continues), then entries and
hard-state records in the order they were persisted. The last hard state wins; an entry whose
index is already in the log replaces that entry and everything after it (Raft's truncation).

Reading stops at the first record that does not check out. Because the file only grows and an
fsync covers all of it, whatever follows decides what the damage was:
- no intact record follows: the torn or damaged tail of the last write, cut;
- an intact record follows, but the damage begins with a zero header or holds an all-zero
  sector: a region the disk never wrote (unsynced pages written back out of order, as etcd's
  WAL reasons about torn writes), so nothing from there on was ever synced: cut;
- otherwise records that may have been acknowledged lie beyond damage no crash makes:
  StorageCorrupt, and the server refuses to start.
A record that checks out but makes no sense (an unknown kind, an entry out of sequence, a second
base) is StorageCorrupt too: no torn write produces one.
"""

from __future__ import annotations

import logging
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cluster.keeper.raft import EMPTY_SNAPSHOT, Entry, HardState, Snapshot
from cluster.keeper.server.disk_errors import StorageCorrupt

_RECORD = struct.Struct(">II")  # payload length, CRC-32 of the payload
_ENTRY = struct.Struct(">cQQ")  # b"E", term, index, then data
_HARD = struct.Struct(">cQQQ")  # b"H", term, vote, commit
_BASE = struct.Struct(">cQQ")  # b"B", index, term
_LATER_KINDS = re.compile(rb"[EH]")  # a base record only ever opens the file
SECTOR = 512
"""The unit a disk writes whole; an all-zero one inside damage was never written."""

_log = logging.getLogger(__name__)


@dataclass
class LogContents:
    base: Snapshot = EMPTY_SNAPSHOT
    entries: list[Entry] = field(default_factory=list)
    hard: HardState = field(default_factory=HardState)
    valid_bytes: int = 0


def base_record(index: int, term: int) -> bytes:
    return _framed(_BASE.pack(b"B", index, term))


def entry_record(entry: Entry) -> bytes:
    return _framed(_ENTRY.pack(b"E", entry.term, entry.index) + entry.data)


def hard_record(hard: HardState) -> bytes:
    return _framed(_HARD.pack(b"H", hard.term, hard.vote, hard.commit))


def _framed(payload: bytes) -> bytes:
    return _RECORD.pack(len(payload), zlib.crc32(payload)) + payload


def read_log(raw: bytes, path: Path) -> LogContents:
    """Every record up to the first damaged one, cutting a torn tail; StorageCorrupt for other damage."""
    loaded = LogContents()
    position = 0
    while (payload := _payload_at(raw, position)) is not None:
        _take(loaded, payload, path, position)
        position += _RECORD.size + len(payload)
    if position == 0:
        raise StorageCorrupt(f"{path} does not start with an intact base record")
    if position != len(raw):
        _judge_damage(raw, position, path)
        _log.warning("%s: cut a torn or unwritten tail of %d bytes at offset %d", path, len(raw) - position, position)
    loaded.valid_bytes = position
    return loaded


def _payload_at(raw: bytes, position: int) -> bytes | None:
    """The payload of the record at `position` if it is whole and its checksum matches."""
    if position + _RECORD.size > len(raw):
        return None
    length, crc = _RECORD.unpack_from(raw, position)
    start = position + _RECORD.size
    payload = raw[start : start + length]
    if length == 0 or len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return payload


def _take(loaded: LogContents, payload: bytes, path: Path, position: int) -> None:
    kind, length, first = payload[:1], len(payload), position == 0
    if kind == b"B" and first and length == _BASE.size:
        _, index, term = _BASE.unpack(payload)
        loaded.base = Snapshot(index, term)
    elif kind == b"E" and not first and length >= _ENTRY.size:
        _, term, index = _ENTRY.unpack_from(payload)
        base = loaded.base.index
        if not base < index <= base + len(loaded.entries) + 1:
            raise StorageCorrupt(f"{path}: entry {index} at offset {position} does not continue the log")
        del loaded.entries[index - base - 1 :]
        loaded.entries.append(Entry(term, index, payload[_ENTRY.size :]))
    elif kind == b"H" and not first and length == _HARD.size:
        _, term, vote, commit = _HARD.unpack(payload)
        loaded.hard = HardState(term, vote, commit)
    else:
        raise StorageCorrupt(
            f"{path}: an intact record at offset {position} makes no sense here ({kind!r}, {length} bytes)"
        )


def _judge_damage(raw: bytes, position: int, path: Path) -> None:
    """Returns when the damage at `position` is a tail to cut; raises when intact records follow it."""
    intact = _intact_record_after(raw, position)
    if intact is None or _never_written(raw, position, intact):
        return
    raise StorageCorrupt(
        f"{path}: damaged record at offset {position}, followed by an intact record at offset {intact}: "
        "not a torn tail, so records that may have been acknowledged lie beyond the damage"
    )


def _intact_record_after(raw: bytes, position: int) -> int | None:
    """The first offset after `position` where a whole, checksummed record of a known kind begins.
    Candidates are found by their kind byte, so a damaged length field cannot hide what follows."""
    for match in _LATER_KINDS.finditer(raw, position + 1 + _RECORD.size):
        offset = match.start() - _RECORD.size
        length = _RECORD.unpack_from(raw, offset)[0]
        kind = raw[match.start() : match.start() + 1]
        plausible = length == _HARD.size if kind == b"H" else length >= _ENTRY.size
        if plausible and _payload_at(raw, offset) is not None:
            return offset
    return None


def _never_written(raw: bytes, start: int, end: int) -> bool:
    if not any(raw[start : start + _RECORD.size]):
        return True
    first = -(-start // SECTOR) * SECTOR
    return any(not any(raw[sector : sector + SECTOR]) for sector in range(first, end - SECTOR + 1, SECTOR))
