"""Starting and stopping a packet handler (handler.py) from the harness, and whether this machine can run one."""

from __future__ import annotations

import importlib.util
import os
import selectors
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
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

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
        """Until the handler says it is bound; a selector, not select(), since a harness that has run many
        tests holds descriptors above select's limit of 1024."""
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(0.1) and stdout.readline().decode(errors="replace").strip() == READY:
                    return
                if self._process.poll() is not None:
                    break
        said = self.log_path.read_text(errors="replace").strip()
        raise HandlerError(f"the packet handler did not start (exit {self._process.returncode}): {said}")
