"""The partition directory: which files are segments, which are ours, and the small state files.

A user can leave anything in a directory; opening a log must not crash on
it. Segment files and producer snapshots are recognised by Kafka's 20-digit
names, leftovers of our own interrupted writes are removed, and everything else
is reported and left alone.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from cluster import durable_file
from cluster.broker.log import checkpoint
from cluster.broker.log.epoch_cache import FILE_NAME as EPOCH_CHECKPOINT
from cluster.broker.log.errors import is_disk_full
from cluster.broker.log.segment import LOG_SUFFIX
from cluster.broker.log.snapshot_files import FILE_NAME as SNAPSHOT_FILE

RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
CLEAN_SHUTDOWN_MARKER = ".kafka_cleanshutdown"
_SEGMENT_FILE = re.compile(r"^(\d{20})(\.log|\.index|\.timeindex|\.txnindex)$")
_OWN_FILES = {RECOVERY_POINT_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT, CLEAN_SHUTDOWN_MARKER, EPOCH_CHECKPOINT}

_log = logging.getLogger(__name__)


def segment_bases(directory: Path) -> list[int]:
    """Base offsets of the segments present, after clearing our own debris."""
    logs: set[int] = set()
    indexes: dict[int, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        match = _SEGMENT_FILE.match(path.name)
        if match and path.is_file():
            base = int(match.group(1))
            if match.group(2) == LOG_SUFFIX:
                logs.add(base)
            else:
                indexes.setdefault(base, []).append(path)
        elif _is_interrupted_write(path.name):
            _log.info("%s: removing %s left by an interrupted checkpoint or snapshot write", directory, path.name)
            path.unlink()
        elif path.name not in _OWN_FILES and not SNAPSHOT_FILE.match(path.name):
            _log.warning("%s: ignoring %s, which is not part of a partition log", directory, path.name)
    for base, paths in indexes.items():
        if base not in logs:
            for path in paths:
                _log.warning("%s: removing %s, an index without its .log segment", directory, path.name)
                path.unlink()
    return sorted(logs)


def _is_interrupted_write(name: str) -> bool:
    if not name.endswith(durable_file.TEMPORARY_SUFFIX):
        return False
    written = name[: -len(durable_file.TEMPORARY_SUFFIX)]
    return written in _OWN_FILES or SNAPSHOT_FILE.match(written) is not None


def read_recovery_point(directory: Path) -> int:
    """The offset below which everything was fsynced; 0 (recover everything) if unknown."""
    return _read_offset(directory, RECOVERY_POINT_CHECKPOINT, "recovering every segment")


def write_recovery_point(directory: Path, offset: int) -> bool:
    """False if a full disk kept the old checkpoint (a lower point, so still true)."""
    return checkpoint.write_or_keep_old(directory / RECOVERY_POINT_CHECKPOINT, [(offset,)])


def read_log_start_offset(directory: Path) -> int:
    """The log start set by advance_log_start or a full truncation; 0 (the first segment's base wins) if unknown."""
    return _read_offset(directory, LOG_START_OFFSET_CHECKPOINT, "the log starts at its first segment")


def write_log_start_offset(directory: Path, offset: int) -> None:
    checkpoint.write(directory / LOG_START_OFFSET_CHECKPOINT, [(offset,)])


def _read_offset(directory: Path, name: str, fallback: str) -> int:
    try:
        entries = checkpoint.read(directory / name, 1)
    except checkpoint.CheckpointError as error:
        _log.warning("%s: %s is corrupt (%s) and not trusted; %s", directory, name, error, fallback)
        return 0
    if not entries:
        return 0
    return max(entries[0][0], 0)


def has_clean_shutdown_marker(directory: Path) -> bool:
    return (directory / CLEAN_SHUTDOWN_MARKER).exists()


def write_clean_shutdown_marker(directory: Path) -> None:
    """Without it (a full disk) the next open only does more work: it flushes the log, as after a crash."""
    try:
        (directory / CLEAN_SHUTDOWN_MARKER).touch()
    except OSError as error:
        if not is_disk_full(error):
            raise
        _log.warning("%s: cannot mark the shutdown clean, the disk is full", directory)
        return
    durable_file.fsync_directory(directory)


def remove_clean_shutdown_marker(directory: Path) -> None:
    """Removed as soon as the log is open, so a crash from here on is seen as one."""
    marker = directory / CLEAN_SHUTDOWN_MARKER
    if marker.exists():
        marker.unlink()
        durable_file.fsync_directory(directory)
