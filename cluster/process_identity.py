"""Whether a process we were told about still runs: the test behind every helper process that must end with
the harness that started it (a fault filesystem's daemon, the proxy server, a packet handler).

A process is named by its pid and its start time (field 22 of /proc/PID/stat, in clock ticks since
boot), so that a pid the kernel hands to another process once ours has ended never passes for it;
a zombie (ended, not yet reaped by its parent) counts as ended.
"""

from __future__ import annotations

from pathlib import Path


def start_time(pid: int) -> int | None:
    """The process's start time, or None when no such process runs (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else int(fields[19])


def is_running(pid: int, started: int | None) -> bool:
    """Whether the process that had `pid` and started at `started` (start_time's answer then) still runs."""
    now = start_time(pid)
    return now is not None and now == started
