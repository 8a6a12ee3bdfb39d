"""Jepsen's file corruption: bits flipped in, or the tail cut off, one file of a chosen kind in a data directory.

The kinds name what the nodes keep (cluster/broker/log/layout.py, cluster/keeper/server/storage.py,
and Apache ZooKeeper's dataDir/version-2):

- closed-segment: a partition's .log segment other than its last one, what a follower must refetch;
- active-segment: a partition's last .log segment, the one being appended to;
- index: a segment's .index or .timeindex;
- checkpoint: a broker checkpoint file (recovery point, log start offset, leader epochs, and any other
  `*checkpoint`) in the log directory or a partition directory;
- keeper-log: keeper's raft.log, ZooKeeper's version-2/log.N;
- keeper-snapshot: keeper's raft.snapshot, ZooKeeper's version-2/snapshot.N.

Only a file's content counts, the bytes up to its last non-zero one: ZooKeeper preallocates its
logs with zeros that it never reads, and a flip there would corrupt nothing. Bits are flipped one
per byte, in distinct bytes; truncation cuts the content's tail (and any padding after it). The file
is changed in place and fsynced, so that on a fault filesystem the damage is as durable as a real
disk's.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cluster.keeper.server.storage import LOG_NAME, SNAPSHOT_NAME

BROKER_KINDS = ("closed-segment", "active-segment", "index", "checkpoint")
KEEPER_KINDS = ("keeper-log", "keeper-snapshot")
KINDS = BROKER_KINDS + KEEPER_KINDS
MODES = ("bitflip", "truncate")
DEFAULT_KINDS = {"broker": "closed-segment", "keeper": "keeper-log"}
ROLE_OF_KIND = {**{kind: "broker" for kind in BROKER_KINDS}, **{kind: "keeper" for kind in KEEPER_KINDS}}

_SEGMENT = re.compile(r"^(\d{20})\.log$")
_INDEX = re.compile(r"^\d{20}\.(index|timeindex)$")
_ZOOKEEPER_DIR = "version-2"
_CHUNK = 1 << 16

HINTS = {
    "closed-segment": "a partition has a closed segment once its first reached log.segment.bytes: "
                      "set that lower with --broker-override",
    "keeper-snapshot": "keeper and ZooKeeper snapshot every snapCount transactions: "
                       "set that lower with --keeper-override",
}
"""Why a kind may have no file yet, and what makes one."""


def _segments(paths: list[Path], active: bool) -> list[Path]:
    """Each partition directory's last segment (active) or all its others (closed)."""
    by_directory: dict[Path, list[Path]] = {}
    for path in paths:
        if _SEGMENT.match(path.name):
            by_directory.setdefault(path.parent, []).append(path)
    chosen = []
    for segments in by_directory.values():
        segments.sort(key=lambda path: path.name)
        chosen += segments[-1:] if active else segments[:-1]
    return chosen


def _checkpoints(paths: list[Path]) -> list[Path]:
    return [path for path in paths if path.name.endswith("checkpoint") and len(path.parts) <= 2]


def _keeper_files(paths: list[Path], own_name: str, zookeeper_prefix: str) -> list[Path]:
    return [path for path in paths if path.name == own_name
            or (path.parent.name == _ZOOKEEPER_DIR and path.name.startswith(zookeeper_prefix))]


_SELECTORS: dict[str, Callable[[list[Path]], list[Path]]] = {
    "closed-segment": lambda paths: _segments(paths, active=False),
    "active-segment": lambda paths: _segments(paths, active=True),
    "index": lambda paths: [path for path in paths if _INDEX.match(path.name)],
    "checkpoint": _checkpoints,
    "keeper-log": lambda paths: _keeper_files(paths, LOG_NAME, "log."),
    "keeper-snapshot": lambda paths: _keeper_files(paths, SNAPSHOT_NAME, "snapshot."),
}


def files_of_kind(data_dir: Path, kind: str) -> list[Path]:
    """The files of `kind` with content under data_dir, relative to it and sorted: what a seeded choice picks from."""
    paths = sorted(path.relative_to(data_dir) for path in data_dir.rglob("*") if path.is_file())
    return [path for path in _SELECTORS[kind](paths) if content_end(data_dir / path) > 0]


def content_end(path: Path) -> int:
    """One past the file's last non-zero byte (0 for a file of zeros): read from the end, as padding can be long."""
    with open(path, "rb") as file:
        end = file.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - _CHUNK)
            file.seek(start)
            chunk = file.read(end - start).rstrip(b"\0")
            if chunk:
                return start + len(chunk)
            end = start
    return 0


def corrupt(path: Path, mode: str, amount: int, rng: random.Random) -> dict[str, Any]:
    """Flips `amount` bits (bitflip) or cuts `amount` bytes (truncate) of the file's content, at most all of it;
    returns how: {"how": "bitflip", "offsets": byte offsets} or {"how": "truncate", "bytes": n}."""
    end = content_end(path)
    with open(path, "r+b") as file:
        if mode == "bitflip":
            offsets = sorted(rng.sample(range(end), min(amount, end)))
            for offset in offsets:
                file.seek(offset)
                byte = file.read(1)[0]
                file.seek(offset)
                file.write(bytes([byte ^ (1 << rng.randrange(8))]))
            done: dict[str, Any] = {"how": "bitflip", "offsets": offsets}
        elif mode == "truncate":
            cut = min(amount, end)
            file.truncate(end - cut)
            done = {"how": "truncate", "bytes": cut}
        else:
            raise ValueError(f"unknown corruption mode {mode!r}: choose one of {', '.join(MODES)}")
        file.flush()
        os.fsync(file.fileno())
    return done
