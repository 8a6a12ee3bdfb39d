"""keeper's Raft storage against the core's own definition of what a Ready leaves on disk (`persisted`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cluster.keeper.raft import DurableState, Entry, HardState, Ready, Snapshot, persisted
from cluster.keeper.server.storage import LOG_NAME, SNAPSHOT_NAME, RaftStorage, StorageCorrupt

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ready(entries: tuple[Entry, ...] = (), hard: HardState | None = None, snapshot: Snapshot | None = None) -> Ready:
    return Ready(None, hard, entries, snapshot, (), (), ())


@st.composite
def ready_sequences(draw: st.DrawFn) -> list[Ready]:
    """Readys a Raft node could hand out: appends that may overwrite an uncommitted suffix, term and
    vote changes, commits, local compactions and snapshots installed from a leader."""
    readys: list[Ready] = []
    durable = DurableState()
    term = 1
    for _ in range(draw(st.integers(1, 12))):
        first_index = durable.snapshot.index + 1
        last_index = durable.entries[-1].index if durable.entries else durable.snapshot.index
        kind = draw(st.sampled_from(["append", "append", "append", "hard", "compact", "install"]))
        if kind == "append":
            start = draw(st.integers(max(first_index, durable.hard_state.commit + 1), last_index + 1))
            term = draw(st.integers(term, term + 1))
            count = draw(st.integers(1, 5))
            entries = tuple(Entry(term, start + i, draw(st.binary(max_size=20))) for i in range(count))
            hard = HardState(term, draw(st.integers(0, 3)), durable.hard_state.commit)
            ready = _ready(entries, hard)
        elif kind == "hard":
            commit = draw(st.integers(durable.hard_state.commit, last_index))
            ready = _ready(hard=HardState(term, durable.hard_state.vote, commit))
        elif kind == "compact" and durable.hard_state.commit > durable.snapshot.index:
            index = draw(st.integers(durable.snapshot.index + 1, durable.hard_state.commit))
            entry = durable.entries[index - first_index]
            ready = _ready(snapshot=Snapshot(index, entry.term, draw(st.binary(min_size=1, max_size=30))))
        elif kind == "install":
            index = draw(st.integers(max(last_index, durable.hard_state.commit) + 1, last_index + 10))
            term = draw(st.integers(term, term + 1))
            snapshot = Snapshot(index, term, draw(st.binary(min_size=1, max_size=30)))
            ready = _ready(hard=HardState(term, durable.hard_state.vote, index), snapshot=snapshot)
        else:
            continue
        readys.append(ready)
        durable = persisted(durable, ready)
    return readys


def _reference(readys: list[Ready]) -> DurableState:
    durable = DurableState()
    for ready in readys:
        durable = persisted(durable, ready)
    return durable


def _open(directory: Path) -> tuple[RaftStorage, DurableState]:
    storage = RaftStorage(directory / "log", directory / "snap", sync=False)
    return storage, storage.load()


def _same(loaded: DurableState, expected: DurableState) -> None:
    assert loaded.snapshot == expected.snapshot
    assert loaded.entries == expected.entries
    assert (loaded.hard_state.term, loaded.hard_state.vote) == (expected.hard_state.term, expected.hard_state.vote)
    assert loaded.hard_state.commit == expected.hard_state.commit


@SETTINGS
@given(readys=ready_sequences())
def test_what_is_loaded_is_what_the_readys_persisted(tmp_path_factory: pytest.TempPathFactory, readys: list[Ready]) -> None:
    directory = tmp_path_factory.mktemp("storage")
    storage, _ = _open(directory)
    for ready in readys:
        storage.persist(ready)
    storage.close()
    _, loaded = _open(directory)
    _same(loaded, _reference(readys))


@SETTINGS
@given(readys=ready_sequences().filter(bool), cut=st.floats(0, 1), flip=st.booleans())
def test_a_torn_or_corrupt_tail_is_cut_and_the_log_stays_usable(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready], cut: float, flip: bool
) -> None:
    directory = tmp_path_factory.mktemp("torn")
    assume(readys[-1].snapshot is None)  # snapshots are written whole (durable_file), never torn
    storage, _ = _open(directory)
    for ready in readys[:-1]:
        storage.persist(ready)
    storage.close()
    durable_size = (directory / "log" / LOG_NAME).stat().st_size
    storage, _ = _open(directory)
    storage.persist(readys[-1])
    storage.close()
    log = directory / "log" / LOG_NAME
    raw = bytearray(log.read_bytes())
    position = durable_size + int(cut * max(len(raw) - durable_size - 1, 0))
    if flip and position < len(raw):
        raw[position] ^= 0xFF
    else:
        del raw[position:]
    log.write_bytes(bytes(raw))

    storage, loaded = _open(directory)
    before, after = _reference(readys[:-1]), _reference(readys)
    assert loaded.snapshot == after.snapshot
    assert loaded.hard_state.term in (before.hard_state.term, after.hard_state.term)
    torn = readys[-1].entries
    possible = [before.entries] + [persisted(before, _ready(torn[:k])).entries for k in range(1, len(torn) + 1)]
    assert loaded.entries in possible  # the last Ready's records, up to where the tear began
    next_index = (loaded.entries[-1].index if loaded.entries else loaded.snapshot.index) + 1
    more = _ready((Entry(loaded.hard_state.term, next_index, b"after recovery"),))
    storage.persist(more)
    storage.close()
    _, reloaded = _open(directory)
    assert reloaded.entries == loaded.entries + more.entries


def test_a_crash_between_snapshot_and_log_rewrite_keeps_entries_only_when_the_log_holds_the_snapshot(
    tmp_path: Path,
) -> None:
    storage, _ = _open(tmp_path)
    entries = tuple(Entry(1, index) for index in range(1, 6))
    storage.persist(_ready(entries, HardState(1, 1, 5)))
    storage.close()
    old_log = (tmp_path / "log" / LOG_NAME).read_bytes()
    storage, _ = _open(tmp_path)
    storage.persist(_ready(snapshot=Snapshot(3, 1, b"state at 3")))
    storage.close()
    (tmp_path / "log" / LOG_NAME).write_bytes(old_log)  # the rewrite never happened
    _, loaded = _open(tmp_path)
    assert loaded.snapshot == Snapshot(3, 1, b"state at 3")
    assert loaded.entries == entries[3:]


def test_damage_that_is_not_a_torn_tail_refuses_to_start(tmp_path: Path) -> None:
    storage, _ = _open(tmp_path)
    storage.persist(_ready(snapshot=Snapshot(2, 1, b"state")))
    storage.close()
    snapshot = tmp_path / "snap" / SNAPSHOT_NAME
    raw = bytearray(snapshot.read_bytes())
    raw[-1] ^= 0xFF
    snapshot.write_bytes(bytes(raw))
    with pytest.raises(StorageCorrupt, match="damaged"):
        _open(tmp_path)


def test_a_commit_alone_is_written_without_an_fsync_and_everything_else_with_one(tmp_path: Path) -> None:
    storage, _ = _open(tmp_path)
    assert storage.needs_fsync(_ready((Entry(1, 1),)))
    assert storage.needs_fsync(_ready(hard=HardState(1, 0, 0)))
    storage.persist(_ready((Entry(1, 1),), HardState(1, 2, 0)))
    assert not storage.needs_fsync(_ready(hard=HardState(1, 2, 1)))
    assert storage.needs_fsync(_ready(hard=HardState(2, 0, 1)))
    assert storage.needs_fsync(_ready(snapshot=Snapshot(1, 1, b"s")))
