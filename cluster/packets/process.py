"""Starting and stopping a packet handler (handler.py) from the harness, and whether this machine can run one."""

from __future__ import annotations

import importlib.util
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from cluster.packets.handler import READY
from cluster.packets.handling import PacketFault

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class HandlerError(RuntimeError):
    """A packet handler did not start or stop; the message carries what it said."""


def unavailable_reason() -> str | None:
    """Why this machine cannot run packet handlers, or None when it can."""
    if os.geteuid() != 0:
        return "packet faults need root (iptables rules and an NFQUEUE handler)"
    if shutil.which("iptables") is None:
        return "packet faults need iptables on the host"
    if importlib.util.find_spec("netfilterqueue") is None:
        return ("packet faults need the Python package netfilterqueue, built against Debian's "
                "libnetfilter-queue-dev: run `make install` (it installs both), or "
                "`apt-get install libnetfilter-queue-dev && pip install netfilterqueue`")
    return None


class HandlerProcess:
    """One running handler: started in a network namespace by `prefix` (nsenter, or nothing), ended by stop()."""

    def __init__(self, prefix: Sequence[str], queue: int, fault: PacketFault, seed: int, log_path: Path,
                 keep_fds: Sequence[int] = ()) -> None:
        argv = [*prefix, sys.executable, "-m", "cluster.packets", "--queue", str(queue), *fault.arguments(),
                "--seed", str(seed), "--exit-with", str(os.getpid())]
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "ab")
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, pass_fds=tuple(keep_fds),
                                         start_new_session=True)
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """SIGTERM (it accepts what it holds, then unbinds), SIGKILL if it has not ended within STOP_TIMEOUT."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        assert self._process.stdout is not None
        self._process.stdout.close()
        self._log.close()

    def _wait_ready(self) -> None:
        assert self._process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self._process.stdout], [], [], 0.1)
            if readable:
                line = self._process.stdout.readline().decode(errors="replace").strip()
                if line == READY:
                    return
            if self._process.poll() is not None:
                break
        self.stop()
        said = self.log_path.read_text(errors="replace").strip()
        raise HandlerError(f"the packet handler did not start (exit {self._process.returncode}): {said}")
