"""Mounting one node's data directory on the fault filesystem, and taking mounts down again.

The daemon runs on the host in a session of its own, so it outlives kills of the node as a page
cache outlives a process crash, and a docker node sees the mount through the bind mount of its
node directory. Taking a mount down moves the files back into the plain directory (as the live
tree held them), so that the node directory looks as it would have without the fault filesystem.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cluster.faultfs.control import DiskControl
from cluster.faultfs.daemon import CONTROL_NAME, LOG_NAME
from cluster.faultfs.errors import FaultFSError
from cluster.faultfs.facility import fuse_unavailable
from cluster.faultfs.mountinfo import Mount, fault_mounts, is_fault_mount
from cluster.faultfs.durability import STRICT
from cluster.faultfs.record import PID_NAME, RECORD_NAME, DaemonRecord

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
_DAEMON_EXIT_WAIT = 5.0
_CLEANUP_LOCK = Path(tempfile.gettempdir()) / "logquake-faultfs-cleanup.lock"


class FaultMount:
    def __init__(self, mountpoint: Path, state_dir: Path, owner: str, entries: str = STRICT) -> None:
        self.mountpoint = Path(os.path.abspath(mountpoint))
        self.state_dir = Path(os.path.abspath(state_dir))
        self.owner = owner
        self.entries = entries
        """When directory entries become durable (durability.ENTRY_MODELS)."""
        self._control = DiskControl(self.state_dir / CONTROL_NAME)
        self._daemon: subprocess.Popen | None = None

    @property
    def control(self) -> DiskControl:
        return self._control

    def is_mounted(self) -> bool:
        return is_fault_mount(self.mountpoint)

    def mount(self, timeout: float = 10) -> DiskControl:
        """Moves what the mountpoint holds into the file system (as durable) and mounts it."""
        self._check_mountable()
        live = self.state_dir / "live"
        live.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.state_dir / "durable", ignore_errors=True)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        _move_children(self.mountpoint, live)
        process = self._daemon = self._start_daemon()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if self.is_mounted() and self._answers():
                return self._control
            time.sleep(0.05)
        self.unmount()
        state = "exited" if process.poll() is not None else f"did not mount within {timeout} s"
        raise FaultFSError(f"fault filesystem daemon for {self.mountpoint} {state}; "
                           f"the end of {self.state_dir / LOG_NAME}:\n{self._log_tail()}")

    def unmount(self) -> None:
        """Unmounts (lazily when busy), ends the daemon and puts the files back; idempotent."""
        take_down(self.mountpoint, self.state_dir)
        if self._daemon is not None:
            self._daemon.wait(_DAEMON_EXIT_WAIT)
            self._daemon = None

    def _check_mountable(self) -> None:
        reason = fuse_unavailable()
        if reason is not None:
            raise FaultFSError(f"cannot mount a fault filesystem on {self.mountpoint}: {reason}")
        if self.is_mounted():
            raise FaultFSError(f"{self.mountpoint} is already a fault filesystem mount")
        if "," in str(self.state_dir):
            raise FaultFSError(f"the state directory {self.state_dir} may not contain a comma (mount options)")
        if self.state_dir.is_relative_to(self.mountpoint):
            raise FaultFSError(f"the state directory {self.state_dir} lies inside the mountpoint {self.mountpoint}")

    def _start_daemon(self) -> subprocess.Popen:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        python_path = os.pathsep.join(filter(None, [str(_SOURCE_ROOT), os.environ.get("PYTHONPATH")]))
        with open(self.state_dir / LOG_NAME, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "cluster.faultfs", "serve", "--mountpoint", str(self.mountpoint),
                 "--state", str(self.state_dir), "--owner", self.owner, "--harness-pid", str(os.getpid()),
                 "--entries", self.entries],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                env={**os.environ, "PYTHONPATH": python_path})

    def _answers(self) -> bool:
        try:
            self._control.status()
        except FaultFSError:
            return False
        return True

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.state_dir / LOG_NAME).read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(no log: {error})"


def take_down(mountpoint: Path, state_dir: Path) -> None:
    """Unmounts one mount of ours, ends its daemon and moves its live files back."""
    record = DaemonRecord.read(state_dir)
    if is_fault_mount(mountpoint):
        _unmount(mountpoint)
    if record is not None:
        _end_daemon(record)
    live = state_dir / "live"
    if live.is_dir():
        mountpoint.mkdir(parents=True, exist_ok=True)
        _move_children(live, mountpoint)
        live.rmdir()
    shutil.rmtree(state_dir / "durable", ignore_errors=True)
    for name in (CONTROL_NAME, RECORD_NAME, PID_NAME):
        (state_dir / name).unlink(missing_ok=True)


def remove_stale_mounts(under: Path | None = None) -> list[str]:
    """Takes down the fault mounts whose harness is gone: the process recorded by their daemon (pid and
    start time) no longer runs. Mounts of other file system types are never touched, nor, when under is
    given, mounts outside that directory. Returns the mountpoints removed.

    Cleanups by runs that start side by side take turns (a lock file on the host), so that no two take
    the same mount down at once and trip over each other's moves."""
    with _cleanup_turn():
        return [mount.mountpoint for mount in fault_mounts() if _take_down_if_stale(mount, under)]


def _take_down_if_stale(mount: Mount, under: Path | None) -> bool:
    mountpoint, state_dir = Path(mount.mountpoint), Path(mount.source)
    if under is not None and not mountpoint.is_relative_to(os.path.abspath(under)):
        return False
    record = DaemonRecord.read(state_dir)
    if record is not None and record.harness_alive():
        return False
    take_down(mountpoint, state_dir)
    return True


@contextmanager
def _cleanup_turn() -> Iterator[None]:
    with open(_CLEANUP_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _unmount(mountpoint: Path) -> None:
    plain = subprocess.run(["fusermount3", "-u", str(mountpoint)], capture_output=True, text=True)
    if plain.returncode == 0:
        return
    lazy = subprocess.run(["fusermount3", "-uz", str(mountpoint)], capture_output=True, text=True)
    if lazy.returncode != 0 and is_fault_mount(mountpoint):
        raise FaultFSError(f"cannot unmount {mountpoint}: {plain.stderr.strip()}; lazily: {lazy.stderr.strip()}")


def _end_daemon(record: DaemonRecord) -> None:
    """Waits for the daemon to leave after its unmount, then stops it (a lazy unmount leaves it
    serving the files still open)."""
    deadline = time.monotonic() + _DAEMON_EXIT_WAIT
    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        if stop is not None and record.daemon_alive():
            os.kill(record.daemon_pid, stop)
        while record.daemon_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not record.daemon_alive():
            return
        deadline = time.monotonic() + _DAEMON_EXIT_WAIT


def _move_children(source: Path, target: Path) -> None:
    for child in list(source.iterdir()):
        destination = target / child.name
        if destination.exists() or destination.is_symlink():
            raise FaultFSError(f"cannot move {child} to {destination}: it exists")
        os.rename(child, destination)
