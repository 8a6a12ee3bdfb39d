"""Readys a Raft node could hand to its storage, for property tests of keeper's storage, and the
core's own account of what they leave on disk (`persisted`) to check a load against."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cluster.keeper.raft import DurableState, Entry, HardState, Ready, Snapshot, persisted
from cluster.keeper.server.storage import RaftStorage

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def ready(entries: tuple[Entry, ...] = (), hard: HardState | None = None, snapshot: Snapshot | None = None) -> Ready:
    return Ready(None, hard, entries, snapshot, (), (), ())


@st.composite
def ready_sequences(draw: st.DrawFn) -> list[Ready]:
    """Appends that may overwrite an uncommitted suffix, term and vote changes, commits, local
    compactions and snapshots installed from a leader."""
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
            next_ready = ready(entries, HardState(term, draw(st.integers(0, 3)), durable.hard_state.commit))
        elif kind == "hard":
            commit = draw(st.integers(durable.hard_state.commit, last_index))
            next_ready = ready(hard=HardState(term, durable.hard_state.vote, commit))
        elif kind == "compact" and durable.hard_state.commit > durable.snapshot.index:
            index = draw(st.integers(durable.snapshot.index + 1, durable.hard_state.commit))
            entry = durable.entries[index - first_index]
            next_ready = ready(snapshot=Snapshot(index, entry.term, draw(st.binary(min_size=1, max_size=30))))
        elif kind == "install":
            index = draw(st.integers(max(last_index, durable.hard_state.commit) + 1, last_index + 10))
            term = draw(st.integers(term, term + 1))
            snapshot = Snapshot(index, term, draw(st.binary(min_size=1, max_size=30)))
            next_ready = ready(hard=HardState(term, durable.hard_state.vote, index), snapshot=snapshot)
        else:
            continue
        readys.append(next_ready)
        durable = persisted(durable, next_ready)
    return readys


def reference(readys: list[Ready]) -> DurableState:
    durable = DurableState()
    for each in readys:
        durable = persisted(durable, each)
    return durable


def open_storage(directory: Path, sync: bool = False) -> tuple[RaftStorage, DurableState]:
    storage = RaftStorage(directory / "log", directory / "snap", sync=sync)
    return storage, storage.load()


def write(directory: Path, readys: list[Ready], sync: bool = False) -> None:
    storage, _ = open_storage(directory, sync)
    for each in readys:
        storage.persist(each)
    storage.close()


def same(loaded: DurableState, expected: DurableState) -> None:
    assert loaded.snapshot == expected.snapshot
    assert loaded.entries == expected.entries
    assert (loaded.hard_state.term, loaded.hard_state.vote) == (expected.hard_state.term, expected.hard_state.vote)
    assert loaded.hard_state.commit == expected.hard_state.commit


def record_spans(raw: bytes) -> list[tuple[int, int]]:
    """Where each record of an undamaged raft.log begins and ends: a 4-byte length, a 4-byte
    checksum, then that many bytes (the framing, read independently of the code under test)."""
    spans, position = [], 0
    while position < len(raw):
        (length,) = struct.unpack_from(">I", raw, position)
        spans.append((position, position + 8 + length))
        position += 8 + length
    assert position == len(raw)
    return spans
