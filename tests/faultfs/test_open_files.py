"""Open files through the mount: mmap, and handles that outlive their names."""

from __future__ import annotations

import mmap
import os

from tests.faultfs.conftest import Mounted, fsync_path, write_file


def test_mmap_reads_and_shared_writes_made_durable_by_msync(mounted: Mounted) -> None:
    write_file(mounted.path / "index", bytes(8192), sync=True)
    fsync_path(mounted.path)
    fd = os.open(mounted.path / "index", os.O_RDWR)
    try:
        with mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as mapped:
            assert mapped[:8] == bytes(8)
            mapped[0:5] = b"first"
            mapped.flush()
            mapped[4096:4102] = b"second"
            mapped.flush(4096, 4096)
            assert os.pread(fd, 5, 0) == b"first"
    finally:
        os.close(fd)
    mounted.control.lose_unsynced()
    content = (mounted.path / "index").read_bytes()
    assert content[:5] == b"first" and content[4096:4102] == b"second" and len(content) == 8192


def test_mmap_writes_never_synced_are_lost(mounted: Mounted) -> None:
    write_file(mounted.path / "index", bytes(4096), sync=True)
    fsync_path(mounted.path)
    fd = os.open(mounted.path / "index", os.O_RDWR)
    try:
        with mmap.mmap(fd, 4096, mmap.MAP_SHARED) as mapped:
            mapped[0:4] = b"lost"
    finally:
        os.close(fd)
    assert (mounted.path / "index").read_bytes()[:4] == b"lost"
    mounted.control.lose_unsynced()
    assert (mounted.path / "index").read_bytes() == bytes(4096)


def test_a_file_written_and_fsynced_after_a_rename_keeps_its_new_name(mounted: Mounted) -> None:
    fd = os.open(mounted.path / "segment.tmp", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"before")
        os.rename(mounted.path / "segment.tmp", mounted.path / "segment")
        os.write(fd, b" after")
        os.ftruncate(fd, 9)
        os.fsync(fd)
        assert os.fstat(fd).st_size == 9
    finally:
        os.close(fd)
    fsync_path(mounted.path)
    mounted.control.lose_unsynced()
    assert os.listdir(mounted.path) == ["segment"]
    assert (mounted.path / "segment").read_bytes() == b"before af"


def test_an_unlinked_open_file_stays_readable_and_writable_until_closed(mounted: Mounted) -> None:
    write_file(mounted.path / "old-segment", b"old", sync=True)
    fd = os.open(mounted.path / "old-segment", os.O_RDWR)
    try:
        os.unlink(mounted.path / "old-segment")
        os.pwrite(fd, b"still here", 0)
        os.fsync(fd)
        assert os.pread(fd, 100, 0) == b"still here"
        assert os.fstat(fd).st_size == 10
        assert os.listdir(mounted.path) == []
        fsync_path(mounted.path)
    finally:
        os.close(fd)
    mounted.control.lose_unsynced()
    assert os.listdir(mounted.path) == []
