"""Who a daemon serves: the record in its state directory that stale-mount cleanup reads.

Each process is named by its pid and its start time (cluster/process_identity.py), so that a pid
reused by another process never passes for the one recorded.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cluster.process_identity import is_running, start_time

RECORD_NAME = "daemon.json"
PID_NAME = "daemon.pid"


@dataclass(frozen=True)
class DaemonRecord:
    owner: str
    mountpoint: str
    harness_pid: int
    harness_start: int | None
    daemon_pid: int
    daemon_start: int | None

    @classmethod
    def for_this_daemon(cls, owner: str, mountpoint: Path, harness_pid: int) -> DaemonRecord:
        return cls(owner, str(mountpoint), harness_pid, start_time(harness_pid), os.getpid(), start_time(os.getpid()))

    def write(self, state_dir: Path) -> None:
        temporary = state_dir / (RECORD_NAME + ".tmp")
        temporary.write_text(json.dumps(asdict(self)))
        os.replace(temporary, state_dir / RECORD_NAME)
        (state_dir / PID_NAME).write_text(f"{self.daemon_pid}\n")

    @classmethod
    def read(cls, state_dir: Path) -> DaemonRecord | None:
        try:
            return cls(**json.loads((state_dir / RECORD_NAME).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def harness_alive(self) -> bool:
        return is_running(self.harness_pid, self.harness_start)

    def daemon_alive(self) -> bool:
        return is_running(self.daemon_pid, self.daemon_start)
