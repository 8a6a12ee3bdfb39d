"""How many FUSE requests of each kind the kernel sent to given mounts while a phase ran.

The kernel's fuse:fuse_request_send tracepoint (Linux 6.15 on) names each request's connection and opcode; `perf stat`
counts its hits machine-wide, filtered by the connections of the mounts measured, so every thread of every node
counts, whoever created it when, and no other FUSE mount on the machine does. perf starts with its counters off and
a control FIFO: they are switched on once perf answers, so its start-up is not part of the phase. Optional: without
perf or the tracepoint the counts are None and the benchmark says so.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

TRACEPOINT = "fuse:fuse_request_send"
KINDS = {"write": "opcode == 16", "fsync": "opcode == 20 || opcode == 30", "lookup": "opcode == 1 || opcode == 3",
         "all": ""}
"""Counted kinds and their opcodes: FUSE_WRITE; FUSE_FSYNC and FUSE_FSYNCDIR; FUSE_LOOKUP and FUSE_GETATTR (with the
entry and attribute timeouts 0, each path a process names is looked up again, component by component); every
request."""
_ANSWER_TIMEOUT = 10.0


def unavailable() -> str | None:
    """Why requests cannot be counted here, or None when they can."""
    if shutil.which("perf") is None:
        return "perf is not installed (Debian linux-perf)"
    if not Path("/sys/kernel/tracing/events/fuse/fuse_request_send").is_dir():
        return f"this kernel has no {TRACEPOINT} tracepoint (Linux 6.15 on), or tracefs is not mounted"
    if os.geteuid() != 0:
        return "counting machine-wide needs root"
    return None


def connection(mountpoint: Path) -> int:
    """The tracepoint's connection number of a mount: its device number in the kernel's encoding."""
    device = os.stat(mountpoint).st_dev
    return (os.major(device) << 20) | os.minor(device)


def counted(mountpoints: list[Path], work: Callable[[], T]) -> tuple[T, dict[str, int]]:
    """Run work and count, per KINDS entry, the requests the kernel sent to these mounts meanwhile."""
    connections = " || ".join(f"connection == {connection(m)}" for m in mountpoints)
    events: list[str] = []
    for condition in KINDS.values():
        events += ["-e", TRACEPOINT, "--filter", f"({connections}) && ({condition})" if condition else connections]
    with tempfile.TemporaryDirectory(prefix="logquake-bench-perf-") as fifos:
        control, ack = Path(fifos) / "control", Path(fifos) / "ack"
        os.mkfifo(control)
        os.mkfifo(ack)
        perf = subprocess.Popen(["perf", "stat", "-a", "-x", ",", "-D", "-1", "--control", f"fifo:{control},{ack}",
                                 *events], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            with _Control(perf, control, ack) as switch:
                switch("enable")
                value = work()
                switch("disable")
            perf.send_signal(signal.SIGINT)
            _, report = perf.communicate(timeout=_ANSWER_TIMEOUT)
        finally:
            if perf.poll() is None:
                perf.kill()
                perf.wait()
    return value, _parse(report)


class _Control:
    """perf's control FIFO and its answers; opening waits (within bounds) for perf to open its ends."""

    def __init__(self, perf: subprocess.Popen, control: Path, ack: Path) -> None:
        self._perf = perf
        self._ack = os.open(ack, os.O_RDONLY | os.O_NONBLOCK)
        self._control = self._open_writer(control)

    def _open_writer(self, path: Path) -> int:
        deadline = time.monotonic() + _ANSWER_TIMEOUT
        while True:
            try:
                return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO until perf opens its end
                if self._perf.poll() is not None or time.monotonic() > deadline:
                    os.close(self._ack)
                    raise RuntimeError(f"perf stat did not start: {self._perf.communicate()[1].strip()}") from None
                time.sleep(0.01)

    def __enter__(self) -> Callable[[str], None]:
        return self._command

    def __exit__(self, *exc: object) -> None:
        os.close(self._control)
        os.close(self._ack)

    def _command(self, command: str) -> None:
        os.write(self._control, f"{command}\n".encode())
        answer = select.poll()  # not select(): a test process may hold descriptors past FD_SETSIZE
        answer.register(self._ack, select.POLLIN)
        if not answer.poll(_ANSWER_TIMEOUT * 1000) or not os.read(self._ack, 16).startswith(b"ack"):
            raise RuntimeError(f"perf stat did not acknowledge {command!r}")


def _parse(report: str) -> dict[str, int]:
    """perf's CSV lines, one per event in the order given; '<not counted>' is a zero."""
    counts = [line.split(",")[0] for line in report.splitlines() if f",{TRACEPOINT}," in line]
    if len(counts) != len(KINDS):
        raise RuntimeError(f"perf stat reported {len(counts)} counts for {len(KINDS)} events:\n{report}")
    return {kind: int(count) if count.isdigit() else 0 for kind, count in zip(KINDS, counts)}
