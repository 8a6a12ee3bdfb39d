"""Each fault mode at the file system level, through a real mount: what a writer sees."""

from __future__ import annotations

import errno
import threading
import os
import time
from pathlib import Path

import pytest

from cluster.faultfs import DiskFaults, FaultMount
from tests.faultfs.conftest import Mounted, fsync_path, require_fuse, write_file


def test_files_in_the_mountpoint_before_the_mount_are_durable(tmp_path: Path) -> None:
    require_fuse()
    mountpoint = tmp_path / "data"
    (mountpoint / "version-2").mkdir(parents=True)
    (mountpoint / "myid").write_bytes(b"3")
    mount = FaultMount(mountpoint, tmp_path / "faultfs", owner="test")
    control = mount.mount()
    try:
        (mountpoint / "myid").write_bytes(b"unsynced")
        control.lose_unsynced()
        assert sorted(os.listdir(mountpoint)) == ["myid", "version-2"]
        assert (mountpoint / "myid").read_bytes() == b"3"
    finally:
        mount.unmount()
    assert (mountpoint / "myid").read_bytes() == b"3"


def test_enospc_comes_exactly_at_the_budget_and_overwrites_still_fit(mounted: Mounted) -> None:
    fd = os.open(mounted.path / "log", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"a" * 100)
        mounted.control.set_faults(DiskFaults(budget=1000))
        assert os.write(fd, b"b" * 1000) == 1000
        with pytest.raises(OSError) as full:
            os.write(fd, b"c")
        assert full.value.errno == errno.ENOSPC
        assert os.pwrite(fd, b"d" * 1100, 0) == 1100
        assert os.fstat(fd).st_size == 1100
        mounted.control.clear_faults()
        assert os.write(fd, b"e") == 1
    finally:
        os.close(fd)


def test_a_write_crossing_the_budget_is_short_then_the_next_fails(mounted: Mounted) -> None:
    fd = os.open(mounted.path / "log", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mounted.control.set_faults(DiskFaults(budget=10))
        assert os.write(fd, b"x" * 25) == 10
        with pytest.raises(OSError) as full:
            os.write(fd, b"x" * 15)
        assert full.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


@pytest.mark.parametrize("op_class", ["write", "fsync"])
def test_eio_reaches_the_writer(mounted: Mounted, op_class: str) -> None:
    fd = os.open(mounted.path / "log", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mounted.control.set_faults(DiskFaults(error_probability=1.0, error_ops=(op_class,)))
        with pytest.raises(OSError) as failed:
            os.write(fd, b"x" * 10)
            os.fsync(fd)
        assert failed.value.errno == errno.EIO
        mounted.control.clear_faults()
        os.write(fd, b"y")
        os.fsync(fd)
    finally:
        os.close(fd)


def test_eio_on_reads_only_when_asked(mounted: Mounted) -> None:
    write_file(mounted.path / "f", b"content", sync=False)
    mounted.control.set_faults(DiskFaults(error_probability=1.0, error_ops=("write",)))
    assert (mounted.path / "f").read_bytes() == b"content"
    mounted.control.set_faults(DiskFaults(error_probability=1.0, error_ops=("read",)))
    with pytest.raises(OSError) as failed:
        (mounted.path / "f").read_bytes()
    assert failed.value.errno == errno.EIO


def test_delays_are_added_to_fsyncs_and_writes(mounted: Mounted) -> None:
    fd = os.open(mounted.path / "log", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mounted.control.set_faults(DiskFaults(fsync_delay=0.2, write_delay=0.1))
        started = time.monotonic()
        os.write(fd, b"x")
        wrote = time.monotonic()
        os.fsync(fd)
        synced = time.monotonic()
        assert wrote - started >= 0.1
        assert synced - wrote >= 0.2
    finally:
        os.close(fd)


def test_power_loss_keeps_what_was_fsynced_and_drops_the_rest(mounted: Mounted) -> None:
    write_file(mounted.path / "synced", b"s" * 5000, sync=True)
    write_file(mounted.path / "unsynced", b"u" * 5000, sync=False)
    fsync_path(mounted.path)
    with open(mounted.path / "synced", "ab") as appended:
        appended.write(b"more")
    report = mounted.control.lose_unsynced()
    assert (mounted.path / "synced").read_bytes() == b"s" * 5000
    assert (mounted.path / "unsynced").read_bytes() == b""
    assert {entry["path"]: entry["lost_bytes"] for entry in report.files} == {"/synced": 4, "/unsynced": 5000}


def test_entries_need_a_directory_fsync(mounted: Mounted) -> None:
    (mounted.path / "sub").mkdir()
    fsync_path(mounted.path)
    write_file(mounted.path / "never-in-a-synced-directory", b"data", sync=True)
    write_file(mounted.path / "sub" / "inner", b"inner", sync=True)
    report = mounted.control.lose_unsynced()
    assert sorted(os.listdir(mounted.path)) == ["sub"]
    assert os.listdir(mounted.path / "sub") == []
    assert {(entry["path"], entry["what"]) for entry in report.entries} == {
        ("/never-in-a-synced-directory", "created"), ("/sub/inner", "created")}


def test_a_torn_write_keeps_a_proper_prefix_of_the_last_write(mounted: Mounted) -> None:
    write_file(mounted.path / "f", b"a" * 100, sync=True)
    fsync_path(mounted.path)
    with open(mounted.path / "f", "ab") as appended:
        appended.write(b"b" * 1000)
    report = mounted.control.lose_unsynced(torn=True, seed=3)
    content = (mounted.path / "f").read_bytes()
    torn = report.files[0]["torn_bytes"]
    assert 0 < torn < 1000
    assert content == b"a" * 100 + b"b" * torn


def test_the_mount_stays_usable_after_a_loss_and_open_files_go_stale(mounted: Mounted) -> None:
    fd = os.open(mounted.path / "f", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mounted.control.lose_unsynced()
        with pytest.raises(OSError) as stale:
            os.write(fd, b"x")
        assert stale.value.errno == errno.EIO
    finally:
        os.close(fd)
    write_file(mounted.path / "g", b"after", sync=True)
    assert (mounted.path / "g").read_bytes() == b"after"


def test_unmount_leaves_no_mount_and_no_daemon_and_puts_the_files_back(mounted: Mounted) -> None:
    write_file(mounted.path / "kept", b"page cache", sync=False)
    pid = int((mounted.mount.state_dir / "daemon.pid").read_text())
    mounted.mount.unmount()
    mounted.mount.unmount()
    assert not mounted.mount.is_mounted()
    assert f" {mounted.path} " not in Path("/proc/self/mountinfo").read_text()
    assert not Path(f"/proc/{pid}").exists()
    assert (mounted.path / "kept").read_bytes() == b"page cache"


def test_concurrent_writers_keep_every_fsynced_append_through_a_loss(mounted: Mounted) -> None:
    (mounted.path / "logs").mkdir()
    fsync_path(mounted.path)
    acknowledged: dict[str, int] = {}

    def writer(name: str) -> None:
        fd = os.open(mounted.path / "logs" / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fsync_path(mounted.path / "logs")
            for record in range(200):
                os.write(fd, f"{name}:{record:05d}\n".encode())
                if record % 3 == 0:
                    os.fsync(fd)
                    acknowledged[name] = record + 1
        finally:
            os.close(fd)

    threads = [threading.Thread(target=writer, args=(f"writer-{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mounted.control.lose_unsynced(torn=True, seed=5)
    for name, records in acknowledged.items():
        content = (mounted.path / "logs" / name).read_bytes()
        expected = b"".join(f"{name}:{record:05d}\n".encode() for record in range(200))
        assert len(content) >= records * len(f"{name}:00000\n")
        assert expected.startswith(content)
