"""The kernel's list of mounts (/proc/self/mountinfo), as far as the fault filesystem needs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FS_TYPE = "fuse.logquake-faultfs"


@dataclass(frozen=True)
class Mount:
    mountpoint: str
    fs_type: str
    source: str


def mounts() -> list[Mount]:
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        after = fields.index("-")
        found.append(Mount(_unescape(fields[4]), fields[after + 1], _unescape(fields[after + 2])))
    return found


def fault_mounts() -> list[Mount]:
    """Our mounts; the source is the daemon's state directory (its fsname)."""
    return [mount for mount in mounts() if mount.fs_type == FS_TYPE]


def is_fault_mount(mountpoint: Path) -> bool:
    return any(mount.mountpoint == str(mountpoint) for mount in fault_mounts())


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, plain)
    return field
