"""keeper's storage on a disk that keeps only what was fsynced, as the fault filesystem's
lose-unsynced does (strict POSIX: a file's bytes are durable once it is fsynced, a name once its
directory is). With forceSync=yes a power loss at any moment keeps every promise `persist` made
and leaves a log that loads; with forceSync=no keeper never fsyncs at all, as ZooKeeper with it."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given

from cluster.keeper.raft import DurableState, Ready
from tests.keeper_server.raft_readys import SETTINGS, open_storage, ready_sequences, reference


class _PowerLossDisk:
    """Watches fsyncs under `root` and remembers what each made durable; `lose_power_into` builds
    the tree a power loss would leave. Files are known by inode, as a filesystem knows them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fsyncs = 0
        self.contents: dict[int, bytes] = {}
        self.names: dict[int, dict[str, tuple[int, bool]]] = {}
        self.after_fsync: Callable[[], None] = lambda: None
        self._record_names(root)  # the test's own directory is durable to begin with

    def fsynced(self, fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if self.root not in (path, *path.parents):
            return
        self.fsyncs += 1
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            self._record_names(path)
        else:
            self.contents[os.fstat(fd).st_ino] = path.read_bytes()
        self.after_fsync()

    def _record_names(self, directory: Path) -> None:
        self.names[directory.stat().st_ino] = {p.name: (p.stat().st_ino, p.is_dir()) for p in directory.iterdir()}

    def lose_power_into(self, target: Path) -> None:
        self._rebuild(self.root.stat().st_ino, target)

    def _rebuild(self, inode: int, target: Path) -> None:
        target.mkdir()
        for name, (child, is_dir) in self.names.get(inode, {}).items():
            if is_dir:
                self._rebuild(child, target / name)
            else:
                (target / name).write_bytes(self.contents.get(child, b""))


@contextmanager
def _watched(root: Path) -> Iterator[_PowerLossDisk]:
    disk = _PowerLossDisk(root)
    real_fsync, real_fdatasync = os.fsync, os.fdatasync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        disk.fsynced(fd)

    def fdatasync(fd: int) -> None:
        real_fdatasync(fd)
        disk.fsynced(fd)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", fsync)
        patch.setattr(os, "fdatasync", fdatasync)
        yield disk


def _after_power_loss(disk: _PowerLossDisk, scratch: Path) -> DurableState:
    target = scratch / f"power-loss-{len(list(scratch.iterdir()))}"
    disk.lose_power_into(target)
    return open_storage(target)[1]


def _promised(loaded: DurableState, expected: DurableState) -> bool:
    """Everything but the commit index, which Raft relearns and keeper writes without an fsync."""
    return (loaded.snapshot, loaded.entries, loaded.hard_state.term, loaded.hard_state.vote) == (
        expected.snapshot, expected.entries, expected.hard_state.term, expected.hard_state.vote)


@SETTINGS
@given(readys=ready_sequences())
def test_with_force_sync_a_power_loss_at_any_moment_keeps_every_promise(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready]
) -> None:
    root, scratch = tmp_path_factory.mktemp("disk"), tmp_path_factory.mktemp("scratch")
    done: list[Ready] = []
    with _watched(root) as disk:
        storage, _ = open_storage(root, sync=True)
        assert _promised(_after_power_loss(disk, scratch), DurableState())

        def mid_persist() -> None:  # a power loss inside persist: before or after, per part
            loaded = _after_power_loss(disk, scratch)
            before, after = reference(done), reference(done + readys[len(done) : len(done) + 1])
            assert loaded.snapshot in (before.snapshot, after.snapshot)
            assert loaded.entries in (before.entries, after.entries)
            assert loaded.hard_state.term in (before.hard_state.term, after.hard_state.term)

        disk.after_fsync = mid_persist
        for ready in readys:
            storage.persist(ready)
            done.append(ready)
            assert _promised(_after_power_loss(disk, scratch), reference(done))
        storage.close()


@SETTINGS
@given(readys=ready_sequences())
def test_without_force_sync_nothing_is_ever_fsynced(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready]
) -> None:
    root, scratch = tmp_path_factory.mktemp("disk"), tmp_path_factory.mktemp("scratch")
    with _watched(root) as disk:
        storage, _ = open_storage(root, sync=False)
        for ready in readys:
            storage.persist(ready)
        storage.close()
    assert disk.fsyncs == 0
    assert _after_power_loss(disk, scratch) == DurableState()  # what a power loss leaves: nothing
