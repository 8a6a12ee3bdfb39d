"""Leftover mounts: a mount whose harness died is removed with its daemon, one whose harness lives is not.

Runs beside these tests clean up too (every deployment with disk faults does), so a mount whose harness
has exited may be taken down by either; what is checked is that it goes, its daemon with it, and its
files come back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cluster.faultfs import FaultMount, remove_stale_mounts
from cluster.faultfs.mountinfo import is_fault_mount
from cluster.faultfs.record import DaemonRecord
from tests.faultfs.conftest import require_fuse

ROOT = Path(__file__).resolve().parents[2]
MOUNT_AND_WAIT = ("import sys; from pathlib import Path; from cluster.faultfs import FaultMount; "
                  "FaultMount(Path(sys.argv[1]), Path(sys.argv[2]), 'stale-mount-test').mount(); "
                  "print('mounted', flush=True); sys.stdin.read()")


class Harness:
    """Another process that mounts and then lives until told to exit, as a run that crashes."""

    def __init__(self, base: Path) -> None:
        self.mount = FaultMount(base / "data", base / "faultfs", owner="stale-mount-test")
        self._process = subprocess.Popen(
            [sys.executable, "-c", MOUNT_AND_WAIT, str(self.mount.mountpoint), str(self.mount.state_dir)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout.readline() == "mounted\n"

    def exit(self) -> None:
        if self._process.returncode is None:
            self._process.communicate(timeout=30)


def test_a_mount_whose_harness_died_is_removed_with_its_daemon(tmp_path: Path) -> None:
    require_fuse()
    harness = Harness(tmp_path)
    mount = harness.mount
    try:
        (mount.mountpoint / "file").write_bytes(b"kept")
        record = DaemonRecord.read(mount.state_dir)
        assert record is not None and record.harness_alive() and record.daemon_alive()
        assert str(mount.mountpoint) not in remove_stale_mounts(tmp_path)
        assert mount.is_mounted()
        harness.exit()
        assert not record.harness_alive()
        assert remove_stale_mounts(tmp_path) in ([str(mount.mountpoint)], [])  # [] when a run beside took it
        assert not is_fault_mount(mount.mountpoint)
        assert not record.daemon_alive()
        assert (mount.mountpoint / "file").read_bytes() == b"kept"
    finally:
        harness.exit()
        mount.unmount()


def test_a_mount_whose_harness_lives_is_kept(tmp_path: Path) -> None:
    require_fuse()
    dead = Harness(tmp_path / "dead")
    living = FaultMount(tmp_path / "live" / "data", tmp_path / "live" / "faultfs", owner="stale-mount-test")
    living.mount()
    try:
        dead.exit()
        assert str(living.mountpoint) not in remove_stale_mounts(tmp_path)
        assert living.is_mounted()
        assert not dead.mount.is_mounted()
    finally:
        dead.mount.unmount()
        living.unmount()
