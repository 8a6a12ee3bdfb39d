"""A node as a real process on this machine: started with its output appended to its log, ended by signals.

Being a real process is the point: SIGKILL leaves exactly what a crash leaves, SIGSTOP freezes it
with its sockets open, and clients reach it over real sockets. The local backend's nodes, the lone
brokers of tests and benchmarks, and keeper ensembles (our keeper or Apache ZooKeeper) each run one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Sequence

KILL_TIMEOUT = 30.0
"""How long a SIGKILLed process may take to be reaped (it may be stuck in the kernel, writing to disk)."""
PAUSE_TIMEOUT = 5.0
"""How long a pause waits for a SIGSTOPped process to show as stopped."""


class NodeProcess:
    """One process at a time, started again and again: a node's process survives neither stop nor kill."""

    def __init__(self, log_path: Path, cwd: Path | None = None, own_session: bool = False,
                 pid_file: Path | None = None) -> None:
        self.log_path = log_path
        self.cwd = cwd
        self.own_session = own_session
        """In a session (and process group) of its own, signals reach every process the node started."""
        self.pid_file = pid_file
        """Holds the pid while the process runs, so that a crashed harness's nodes can be found and ended."""
        self._process: subprocess.Popen[bytes] | None = None
        self._paused = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self.is_running() else None

    def start(self, command: Sequence[str], pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None) -> None:
        """Launches `command` with no input and its output appended to the log, its environment this process's plus
        `env`; returns without waiting for it to serve."""
        environment = {**os.environ, **env} if env else None
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.cwd, start_new_session=self.own_session, pass_fds=tuple(pass_fds),
                                             env=environment)
        self._paused = False
        if self.pid_file is not None:
            self.pid_file.write_text(f"{self._process.pid}\n")

    def is_running(self) -> bool:
        """True while the process exists, paused or not."""
        return self._process is not None and self._process.poll() is None

    def is_paused(self) -> bool:
        return self.is_running() and self._paused

    def exit_code(self) -> int | None:
        """The code the process ended with by itself (a crash, a refused configuration), or None while it
        runs, before it started and once stop or kill has ended it."""
        return None if self._process is None else self._process.poll()

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets, its peers hear nothing. Returns once the kernel shows it stopped
        (a signal takes effect when the process is next scheduled, later on a loaded machine), so that a pause
        the history calls done has frozen the node; one stuck in the kernel (uninterruptible I/O) is waited for
        PAUSE_TIMEOUT at most, and stops when the I/O ends."""
        self.signal(signal.SIGSTOP)
        self._paused = True
        deadline = time.monotonic() + PAUSE_TIMEOUT
        while (pid := self.pid) is not None and not _is_stopped(pid) and time.monotonic() < deadline:
            time.sleep(0.005)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self._paused = False

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, the graceful path (after SIGCONT, as a paused process could not act on it); returns the exit
        code, None if there was no process. One still there after `timeout` seconds is killed, and
        subprocess.TimeoutExpired raised."""
        if self._process is None:
            return None
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            return self._reap(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> int | None:
        """SIGKILL: exactly what a crash leaves behind. Returns the exit code, None if there was no process."""
        if self._process is None:
            return None
        self.signal(signal.SIGKILL)
        return self._reap(KILL_TIMEOUT)

    def signal(self, signum: int) -> None:
        """Sends `signum` to the running process, or to its whole process group when it has a session of its own."""
        if self._process is None or not self.is_running():
            return
        try:
            if self.own_session:
                os.killpg(self._process.pid, signum)
            else:
                self._process.send_signal(signum)
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        """Everything the process has written so far ("" before it first started)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _reap(self, timeout: float) -> int:
        assert self._process is not None
        code = self._process.wait(timeout)
        self._process = None
        self._paused = False
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)
        return code


def _is_stopped(pid: int) -> bool:
    """The process's state in /proc is T (stopped by a signal), or it is gone (nothing left to stop)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] in "Tt"
