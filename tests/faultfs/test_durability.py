"""The disk (live files plus durability model plus durable store, no FUSE) against the reference:
after every operation the live tree holds the same, and a power loss (plain or torn) leaves what
strict POSIX durability allows (or, in the journaled entry model, what ext4 keeps)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.faultfs import ENTRY_MODELS, JOURNALED
from cluster.faultfs.disk import Disk
from cluster.faultfs.ranges import DirtyRanges
from tests.faultfs.operations import apply_to_reference, draw_sequence
from tests.faultfs.reference import Reference


def tree(root: Path) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for directory, dirs, files in os.walk(root):
        relative = directory[len(str(root)):]
        found.update({f"{relative}/{name}": None for name in dirs})
        found.update({f"{relative}/{name}": Path(directory, name).read_bytes() for name in files})
    return found


def apply_to_disk(disk: Disk, operation: tuple, reference: Reference) -> dict[str, int]:
    """Returns the torn bytes by path when the operation was a loss."""
    name, *arguments = operation
    if name == "create":
        disk.release(disk.create(arguments[0], 0o644))
    elif name == "mkdir":
        disk.mkdir(arguments[0], 0o755)
    elif name in ("write", "append"):
        file = reference.file(arguments[0])
        assert file is not None
        offset, data = (arguments[1], arguments[2]) if name == "write" else (len(file.live), arguments[1])
        fh = disk.open(arguments[0], os.O_WRONLY)
        disk.write(fh, data, offset)
        disk.release(fh)
    elif name == "truncate":
        disk.truncate_path(arguments[0], arguments[1])
    elif name == "fsync":
        if os.path.isdir(disk.real(arguments[0])):
            fh = disk.opendir(arguments[0])
            disk.fsync_directory(fh)
        else:
            fh = disk.open(arguments[0], os.O_RDONLY)
            disk.fsync(fh)
        disk.release(fh)
    elif name in ("unlink", "rmdir"):
        disk.remove(arguments[0], directory=name == "rmdir")
    elif name == "rename":
        disk.rename(*arguments)
    elif name == "link":
        disk.link(*arguments)
    elif name == "sync_all":
        disk.sync_all()
    else:
        report = disk.lose_unsynced(torn=arguments[0], seed=arguments[1])
        return {file["path"]: file["torn_bytes"] for file in report.files if file["torn_bytes"]}
    return {}


@pytest.mark.parametrize("entries", ENTRY_MODELS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_disk_keeps_what_the_reference_keeps(entries: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as state:
        disk, reference = Disk(Path(state), entries), Reference(journaled=entries == JOURNALED)
        disk.adopt()

        def apply(operation: tuple) -> None:
            torn = apply_to_disk(disk, operation, reference)
            apply_to_reference(reference, operation, torn)
            assert tree(disk.live) == reference.tree(), operation

        draw_sequence(data, reference, apply)


def test_files_present_at_start_are_durable() -> None:
    with tempfile.TemporaryDirectory() as state:
        live = Path(state, "live")
        (live / "kept" / "inner").mkdir(parents=True)
        (live / "kept" / "inner" / "file").write_bytes(b"at power-on")
        os.link(live / "kept" / "inner" / "file", live / "hard")
        disk = Disk(Path(state))
        disk.adopt()
        disk.lose_unsynced(torn=True, seed=1)
        assert tree(live) == {"/kept": None, "/kept/inner": None, "/kept/inner/file": b"at power-on",
                              "/hard": b"at power-on"}
        assert os.stat(live / "hard").st_ino == os.stat(live / "kept" / "inner" / "file").st_ino


def test_the_loss_report_names_what_was_undone() -> None:
    with tempfile.TemporaryDirectory() as state:
        disk = Disk(Path(state))
        disk.adopt()
        for path in ("/old", "/removed"):
            disk.release(disk.create(path, 0o644))
        root = disk.opendir("/")
        disk.fsync_directory(root)
        disk.rename("/old", "/new")
        disk.remove("/removed", directory=False)
        disk.release(disk.create("/created", 0o644))
        report = disk.lose_unsynced(torn=False, seed=0)
        assert report.entries == [{"path": "/created", "what": "created"},
                                  {"path": "/new", "what": "renamed", "restored": "/old"},
                                  {"path": "/removed", "what": "removed"}]


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), max_size=30), st.integers(0, 260))
def test_dirty_ranges_cover_exactly_the_bytes_added_and_not_clipped(added: list[tuple[int, int]], size: int) -> None:
    ranges, covered = DirtyRanges(), set()
    for start, length in added:
        ranges.add(start, start + length)
        covered |= set(range(start, start + length))
    ranges.clip(size)
    covered = {byte for byte in covered if byte < size}
    spans = list(ranges)
    assert all(end < next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert {byte for start, end in spans for byte in range(start, end)} == covered
    assert ranges.total() == len(covered)


def test_a_file_shrunk_twice_before_an_fsync_keeps_zeros_past_the_first_shrink() -> None:
    with tempfile.TemporaryDirectory() as state:
        disk = Disk(Path(state))
        disk.adopt()
        fh = disk.create("/f", 0o644)
        disk.write(fh, b"x" * 50, 0)
        disk.fsync(fh)
        disk.fsync_directory(disk.opendir("/"))
        for size in (10, 60, 30):
            disk.truncate(fh, size)
        disk.fsync(fh)
        disk.release(fh)
        disk.lose_unsynced(torn=False, seed=0)
        assert (disk.live / "f").read_bytes() == b"x" * 10 + bytes(20)


@pytest.mark.parametrize("entries, survives", [("strict", False), ("journaled", True)])
def test_a_new_file_fsynced_without_its_directory_survives_only_a_journaled_loss(entries: str, survives: bool) -> None:
    """Apache ZooKeeper's pattern: a new log file is written and fsynced, its directory never is."""
    with tempfile.TemporaryDirectory() as state:
        disk = Disk(Path(state), entries)
        disk.adopt()
        disk.mkdir("/version-2", 0o755)
        fh = disk.create("/version-2/log.1", 0o644)
        disk.write(fh, b"acknowledged", 0)
        disk.fsync(fh)
        disk.release(fh)
        disk.lose_unsynced(torn=False, seed=0)
        expected = {"/version-2": None, "/version-2/log.1": b"acknowledged"} if survives else {}
        assert tree(disk.live) == expected


def test_a_removed_file_keeps_its_durable_copy_exactly_while_a_durable_name_or_a_handle_reaches_it() -> None:
    with tempfile.TemporaryDirectory() as state:
        disk = Disk(Path(state))
        disk.adopt()
        fh = disk.create("/segment", 0o644)
        disk.write(fh, b"synced", 0)
        disk.fsync(fh)
        root = disk.opendir("/")
        disk.fsync_directory(root)
        copies = Path(state, "durable")
        assert len(list(copies.iterdir())) == 1
        disk.remove("/segment", directory=False)
        disk.fsync_directory(root)
        assert len(list(copies.iterdir())) == 1, "an open handle still reaches it"
        disk.release(fh)
        disk.fsync_directory(root)
        assert list(copies.iterdir()) == []
        disk.release(root)
