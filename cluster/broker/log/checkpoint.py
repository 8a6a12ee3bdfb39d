"""Kafka's checkpoint text files, written so a crash leaves the old or the new one.

Format (Kafka's CheckpointFile): a version line, a count line, then one entry
per line, written with cluster.durable_file so a reader never sees half a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from cluster.durable_file import write_atomically

VERSION = 0


class CheckpointError(ValueError):
    """A checkpoint file exists but does not hold what its format promises."""


def write(path: Path, entries: Sequence[tuple[int, ...]]) -> None:
    lines = [str(VERSION), str(len(entries))] + [" ".join(str(field) for field in entry) for entry in entries]
    write_atomically(path, ("\n".join(lines) + "\n").encode("ascii"))


def read(path: Path, fields_per_entry: int) -> list[tuple[int, ...]] | None:
    """The entries, or None when there is no file; raises CheckpointError when it is malformed."""
    try:
        text = path.read_bytes().decode("ascii")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise CheckpointError(f"{path.name}: not ASCII text") from None
    lines = text.splitlines()
    if len(lines) < 2 or lines[0].strip() != str(VERSION):
        raise CheckpointError(f"{path.name}: expected version line {VERSION!r}, got {lines[:1]!r}")
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
