"""keeper's Raft storage against the core's own definition of what a Ready leaves on disk (`persisted`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cluster.keeper.raft import Entry, HardState, Ready, Snapshot, persisted
from cluster.keeper.server.storage import LOG_NAME
from tests.keeper_server.raft_readys import (
    SETTINGS,
    open_storage,
    ready,
    ready_sequences,
    record_spans,
    reference,
    same,
    write,
)


@SETTINGS
@given(readys=ready_sequences())
def test_what_is_loaded_is_what_the_readys_persisted(tmp_path_factory: pytest.TempPathFactory, readys: list[Ready]) -> None:
    directory = tmp_path_factory.mktemp("storage")
    write(directory, readys)
    _, loaded = open_storage(directory)
    same(loaded, reference(readys))


@SETTINGS
@given(readys=ready_sequences().filter(bool), cut=st.floats(0, 1), flip=st.booleans())
def test_a_torn_or_corrupt_tail_is_cut_and_the_log_stays_usable(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready], cut: float, flip: bool
) -> None:
    """The last write torn anywhere (a prefix survives), or its last record damaged."""
    directory = tmp_path_factory.mktemp("torn")
    assume(readys[-1].snapshot is None)  # snapshots are written whole (durable_file), never torn
    write(directory, readys[:-1])
    log = directory / "log" / LOG_NAME
    durable_size = log.stat().st_size
    write(directory, readys[-1:])
    raw = bytearray(log.read_bytes())
    if flip:
        start, end = record_spans(bytes(raw))[-1]
        raw[start + int(cut * (end - start - 1))] ^= 0xFF
    else:
        del raw[durable_size + int(cut * max(len(raw) - durable_size - 1, 0)) :]
    log.write_bytes(bytes(raw))

    storage, loaded = open_storage(directory)
    before, after = reference(readys[:-1]), reference(readys)
    assert loaded.snapshot == after.snapshot
    assert loaded.hard_state.term in (before.hard_state.term, after.hard_state.term)
    torn = readys[-1].entries
    possible = [before.entries] + [persisted(before, ready(torn[:k])).entries for k in range(1, len(torn) + 1)]
    assert loaded.entries in possible  # the last Ready's records, up to where the tear began
    next_index = (loaded.entries[-1].index if loaded.entries else loaded.snapshot.index) + 1
    more = ready((Entry(loaded.hard_state.term, next_index, b"after recovery"),))
    storage.persist(more)
    storage.close()
    _, reloaded = open_storage(directory)
    assert reloaded.entries == loaded.entries + more.entries


def test_a_crash_between_snapshot_and_log_rewrite_keeps_entries_only_when_the_log_holds_the_snapshot(
    tmp_path: Path,
) -> None:
    entries = tuple(Entry(1, index) for index in range(1, 6))
    write(tmp_path, [ready(entries, HardState(1, 1, 5))])
    old_log = (tmp_path / "log" / LOG_NAME).read_bytes()
    write(tmp_path, [ready(snapshot=Snapshot(3, 1, b"state at 3"))])
    (tmp_path / "log" / LOG_NAME).write_bytes(old_log)  # the rewrite never happened
    _, loaded = open_storage(tmp_path)
    assert loaded.snapshot == Snapshot(3, 1, b"state at 3")
    assert loaded.entries == entries[3:]


def test_a_commit_alone_is_written_without_an_fsync_and_everything_else_with_one(tmp_path: Path) -> None:
    storage, _ = open_storage(tmp_path)
    assert storage.needs_fsync(ready((Entry(1, 1),)))
    assert storage.needs_fsync(ready(hard=HardState(1, 0, 0)))
    storage.persist(ready((Entry(1, 1),), HardState(1, 2, 0)))
    assert not storage.needs_fsync(ready(hard=HardState(1, 2, 1)))
    assert storage.needs_fsync(ready(hard=HardState(2, 0, 1)))
    assert storage.needs_fsync(ready(snapshot=Snapshot(1, 1, b"s")))
