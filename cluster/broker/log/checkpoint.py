"""Kafka's checkpoint text files, with a checksum, written so a crash leaves the old or the new one.

Format: Kafka's CheckpointFile (a version line, a count line, then one entry
per line) at version 1, which adds a last line `checksum <crc32 of every byte
before it, 8 hex digits>`: a flipped digit in an offset still parses, and only
the checksum tells it from the truth. Version 0 files (Kafka's, and ours before
checksums) are still read, so a log written by an older broker opens, and are
replaced by version 1 at their next write. Files are written with
cluster.durable_file, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Sequence

from cluster.broker.log.errors import is_disk_full
from cluster.durable_file import write_atomically

VERSION = 1
_UNCHECKED_VERSION = 0
_CHECKSUM = "checksum"

_log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint file exists but does not hold what its format promises."""


def _encode(entries: Sequence[tuple[int, ...]]) -> bytes:
    lines = [str(VERSION), str(len(entries))] + [" ".join(str(field) for field in entry) for entry in entries]
    body = ("\n".join(lines) + "\n").encode("ascii")
    return body + f"{_CHECKSUM} {zlib.crc32(body):08x}\n".encode("ascii")


def write(path: Path, entries: Sequence[tuple[int, ...]]) -> None:
    write_atomically(path, _encode(entries))


def write_or_keep_old(path: Path, entries: Sequence[tuple[int, ...]]) -> bool:
    """Writes the checkpoint, or on a full disk keeps the old file whole and returns False.

    A stale checkpoint is what a crash just before the write would have left, which every
    reader already copes with; the caller writes again at its next occasion. Any other
    error is raised: the log dir has failed.
    """
    try:
        write(path, entries)
    except OSError as error:
        if not is_disk_full(error):
            raise
        _log.warning("%s: cannot write %s, the disk is full (%s); the old file stays and the write is retried",
                     path.parent, path.name, error.strerror or error)
        return False
    return True


def read(path: Path, fields_per_entry: int) -> list[tuple[int, ...]] | None:
    """The entries, or None when there is no file; raises CheckpointError when it is malformed or
    its checksum does not match."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise CheckpointError(f"{path.name}: not ASCII text") from None
    lines = text.splitlines()
    version = lines[0].strip() if lines else ""
    if version == str(VERSION):
        lines = _checked(path, raw, lines)
    elif version != str(_UNCHECKED_VERSION):
        raise CheckpointError(f"{path.name}: expected version line {VERSION!r} or {_UNCHECKED_VERSION!r}, got {lines[:1]!r}")
    return _entries(path, lines, fields_per_entry)


def _checked(path: Path, raw: bytes, lines: list[str]) -> list[str]:
    """The lines before the checksum line, if the checksum matches the bytes before it."""
    last = raw.rstrip(b"\n").rfind(b"\n") + 1
    expected = f"{_CHECKSUM} {zlib.crc32(raw[:last]):08x}"
    if not lines or lines[-1] != expected:
        raise CheckpointError(f"{path.name}: checksum line {lines[-1][:40]!r} does not match its contents")
    return lines[:-1]


def _entries(path: Path, lines: list[str], fields_per_entry: int) -> list[tuple[int, ...]]:
    if len(lines) < 2:
        raise CheckpointError(f"{path.name}: no count line")
    try:
        count = int(lines[1])
        entries = [tuple(int(field) for field in line.split()) for line in lines[2:] if line.strip()]
    except ValueError:
        raise CheckpointError(f"{path.name}: non-integer field") from None
    if count != len(entries) or any(len(entry) != fields_per_entry for entry in entries):
        raise CheckpointError(
            f"{path.name}: count line says {count} entries of {fields_per_entry} fields, found {len(entries)} lines"
        )
    return entries
