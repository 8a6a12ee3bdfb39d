"""Leftover mounts: a mount whose harness died is removed, one whose owner lives is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cluster.faultfs import FaultMount, remove_stale_mounts
from cluster.faultfs.mountinfo import is_fault_mount
from cluster.faultfs.record import DaemonRecord
from tests.faultfs.conftest import require_fuse

ROOT = Path(__file__).resolve().parents[2]
STALE_OWNER = "stale-mount-test"


def mount_from_a_harness_that_exits(base: Path) -> FaultMount:
    mount = FaultMount(base / "data", base / "faultfs", owner=STALE_OWNER)
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from cluster.faultfs import FaultMount; "
                    "FaultMount(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]).mount()",
                    str(mount.mountpoint), str(mount.state_dir), STALE_OWNER], cwd=ROOT, check=True)
    return mount


def only_ours(owner: str) -> bool:
    """Vouches for every owner but this test's, so that other runs' mounts stay untouched."""
    return owner != STALE_OWNER


def test_a_mount_whose_harness_died_is_removed_with_its_daemon(tmp_path: Path) -> None:
    require_fuse()
    mount = mount_from_a_harness_that_exits(tmp_path)
    try:
        (mount.mountpoint / "file").write_bytes(b"kept")
        record = DaemonRecord.read(mount.state_dir)
        assert record is not None and not record.harness_alive() and record.daemon_alive()
        assert remove_stale_mounts(only_ours) == [str(mount.mountpoint)]
        assert not is_fault_mount(mount.mountpoint)
        assert not record.daemon_alive()
        assert (mount.mountpoint / "file").read_bytes() == b"kept"
    finally:
        mount.unmount()


def test_a_mount_whose_owner_lives_is_kept(tmp_path: Path) -> None:
    require_fuse()
    dead_harness = mount_from_a_harness_that_exits(tmp_path / "dead")
    living = FaultMount(tmp_path / "live" / "data", tmp_path / "live" / "faultfs", owner=STALE_OWNER)
    living.mount()
    try:
        assert remove_stale_mounts(lambda owner: True) == []
        assert dead_harness.is_mounted()
        assert str(dead_harness.mountpoint) in remove_stale_mounts(only_ours)
        assert living.is_mounted()
    finally:
        dead_harness.unmount()
        living.unmount()
