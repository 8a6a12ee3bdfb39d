"""Damage to raft.log and raft.snapshot, as `corrupt-file` or a crash leaves it: a load either refuses
(StorageCorrupt) or gives exactly what an undamaged log cut before the damage gives. It never
yields altered data, and it refuses whenever intact records, which may have been acknowledged,
lie beyond the damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cluster.keeper.raft import DurableState, Entry, HardState, Ready, Snapshot
from cluster.keeper.server.disk_errors import StorageCorrupt
from cluster.keeper.server.log_file import SECTOR
from cluster.keeper.server.storage import LOG_NAME, SNAPSHOT_NAME
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

bit_flips = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=8)


def _flipped(raw: bytes, flips: list[tuple[float, int]]) -> bytes:
    damaged = bytearray(raw)
    for where, bit in flips:
        damaged[int(where * len(raw))] ^= 1 << bit
    return bytes(damaged)


def _load_from(tmp_path_factory: pytest.TempPathFactory, original: Path, log: bytes) -> DurableState:
    """A copy of `original`'s storage with raft.log replaced by `log`, loaded."""
    copy = tmp_path_factory.mktemp("copy")
    write(copy, [])
    snapshot = original / "snap" / SNAPSHOT_NAME
    if snapshot.exists():
        (copy / "snap" / SNAPSHOT_NAME).write_bytes(snapshot.read_bytes())
    (copy / "log" / LOG_NAME).write_bytes(log)
    return open_storage(copy)[1]


@SETTINGS
@given(readys=ready_sequences(), flips=bit_flips)
def test_bit_flips_in_the_log_are_refused_or_cut_off_with_everything_after_them(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready], flips: list[tuple[float, int]]
) -> None:
    directory = tmp_path_factory.mktemp("flips")
    write(directory, readys)
    log = directory / "log" / LOG_NAME
    raw = log.read_bytes()
    damaged = _flipped(raw, flips)
    assume(damaged != raw)
    spans = record_spans(raw)
    hit = [raw[start:end] != damaged[start:end] for start, end in spans]
    first = hit.index(True)
    log.write_bytes(damaged)
    if first == 0 or not all(hit[first:]):
        with pytest.raises(StorageCorrupt):
            open_storage(directory)
        return
    _, loaded = open_storage(directory)
    same(loaded, _load_from(tmp_path_factory, directory, raw[: spans[first][0]]))


@SETTINGS
@given(readys=ready_sequences(), cut=st.floats(0, 1, exclude_max=True))
def test_a_log_cut_anywhere_loads_as_the_whole_records_before_the_cut(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready], cut: float
) -> None:
    directory = tmp_path_factory.mktemp("cut")
    write(directory, readys)
    log = directory / "log" / LOG_NAME
    raw = log.read_bytes()
    length = int(cut * len(raw))
    log.write_bytes(raw[:length])
    whole = [end for _, end in record_spans(raw) if end <= length]
    if not whole:
        with pytest.raises(StorageCorrupt, match="base record"):
            open_storage(directory)
        return
    _, loaded = open_storage(directory)
    same(loaded, _load_from(tmp_path_factory, directory, raw[: whole[-1]]))


@SETTINGS
@given(readys=ready_sequences().filter(lambda readys: any(r.snapshot for r in readys)), flips=bit_flips,
       cut=st.one_of(st.none(), st.floats(0, 1, exclude_max=True)))
def test_any_damage_to_the_snapshot_refuses_to_start(
    tmp_path_factory: pytest.TempPathFactory, readys: list[Ready], flips: list[tuple[float, int]], cut: float | None
) -> None:
    directory = tmp_path_factory.mktemp("snapshot")
    write(directory, readys)
    snapshot = directory / "snap" / SNAPSHOT_NAME
    raw = snapshot.read_bytes()
    damaged = raw[: int(cut * len(raw))] if cut is not None else _flipped(raw, flips)
    assume(damaged != raw)
    snapshot.write_bytes(damaged)
    with pytest.raises(StorageCorrupt, match="snapshot"):
        open_storage(directory)


def test_a_log_without_its_snapshot_or_a_snapshot_without_its_log_refuses_to_start(tmp_path: Path) -> None:
    write(tmp_path, [ready((Entry(1, 1), Entry(1, 2)), HardState(1, 1, 2)), ready(snapshot=Snapshot(2, 1, b"s"))])
    snapshot = tmp_path / "snap" / SNAPSHOT_NAME
    kept = snapshot.read_bytes()
    snapshot.unlink()
    with pytest.raises(StorageCorrupt, match="newer than"):
        open_storage(tmp_path)
    snapshot.write_bytes(kept)
    (tmp_path / "log" / LOG_NAME).unlink()
    with pytest.raises(StorageCorrupt, match="term and vote"):
        open_storage(tmp_path)


def _durable_then(tmp_path: Path, later: list[Ready]) -> tuple[Path, int, bytes]:
    """A log holding one acknowledged Ready, then `later` written after it: the log, where the later
    writes begin, and their bytes."""
    first = ready((Entry(1, 1, b"acknowledged"),), HardState(1, 1, 0))
    write(tmp_path, [first])
    log = tmp_path / "log" / LOG_NAME
    synced = log.stat().st_size
    write(tmp_path, later)
    return log, synced, log.read_bytes()


def test_a_write_the_disk_never_made_is_cut_with_every_write_after_it(tmp_path: Path) -> None:
    """Unsynced writes can reach the disk out of order: a lost commit record leaves zeros before an
    intact later write, which was never synced either (an fsync would have covered the zeros too)."""
    commit = ready(hard=HardState(1, 1, 1))
    log, synced, raw = _durable_then(tmp_path, [commit, ready((Entry(1, 2, b"unsynced"),))])
    lost_end = next(end for start, end in record_spans(raw) if start == synced)  # the commit record
    log.write_bytes(raw[:synced] + bytes(lost_end - synced) + raw[lost_end:])
    _, loaded = open_storage(tmp_path)
    assert loaded.entries == (Entry(1, 1, b"acknowledged"),)


def test_a_sector_the_disk_never_wrote_is_cut_but_a_flipped_bit_there_is_refused(tmp_path: Path) -> None:
    big = ready((Entry(1, 2, bytes(range(256)) * 12), Entry(1, 3, b"after")), HardState(1, 1, 0))
    log, synced, raw = _durable_then(tmp_path, [big])
    sector = -(-(synced + 64) // SECTOR) * SECTOR  # inside the big entry's data
    log.write_bytes(raw[:sector] + bytes(SECTOR) + raw[sector + SECTOR :])
    _, loaded = open_storage(tmp_path)
    assert loaded.entries == (Entry(1, 1, b"acknowledged"),)

    log.write_bytes(raw[:sector] + bytes([raw[sector] ^ 1]) + raw[sector + 1 :])
    with pytest.raises(StorageCorrupt, match="followed by an intact record"):
        open_storage(tmp_path)
