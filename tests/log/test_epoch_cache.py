"""The leader-epoch cache: KIP-101/279 answers, Kafka's truncation rules, its checkpoint file."""

from __future__ import annotations

import errno
import logging
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.log import UNDEFINED_EPOCH, UNDEFINED_OFFSET, LeaderEpochCache, checkpoint
from cluster.broker.log.epoch_cache import FILE_NAME


def cache_with(tmp_path, entries: list[tuple[int, int]]) -> LeaderEpochCache:
    cache = LeaderEpochCache(tmp_path / FILE_NAME, [])
    cache.assign_all(entries)
    return cache


def test_end_offset_for_epoch_answers_like_kafka(tmp_path) -> None:
    cache = cache_with(tmp_path, [(1, 0), (3, 10), (5, 20)])

    assert cache.end_offset_for_epoch(5, log_end_offset=30) == (5, 30)
    assert cache.end_offset_for_epoch(3, 30) == (3, 20)
    assert cache.end_offset_for_epoch(4, 30) == (3, 20), "largest epoch <= 4 is 3, which ends where 5 starts"
    assert cache.end_offset_for_epoch(2, 30) == (1, 10)
    assert cache.end_offset_for_epoch(0, 30) == (0, 0), "older than anything known: ends where the first starts"
    assert cache.end_offset_for_epoch(6, 30) == (UNDEFINED_EPOCH, UNDEFINED_OFFSET)
    assert cache.end_offset_for_epoch(UNDEFINED_EPOCH, 30) == (UNDEFINED_EPOCH, UNDEFINED_OFFSET)


def test_assign_ignores_repeats_and_drops_entries_it_contradicts(tmp_path) -> None:
    cache = cache_with(tmp_path, [(1, 0), (3, 10), (5, 20)])

    cache.assign(5, 25)
    assert cache.entries == [(1, 0), (3, 10), (5, 20)]
    cache.assign(4, 15)
    assert cache.entries == [(1, 0), (3, 10), (4, 15)]
    with pytest.raises(ValueError):
        cache.assign(-1, 3)


def test_truncation_from_either_end(tmp_path) -> None:
    cache = cache_with(tmp_path, [(1, 0), (3, 10), (5, 20)])

    cache.truncate_from_end(20)
    assert cache.entries == [(1, 0), (3, 10)]
    cache.truncate_from_start(15)
    assert cache.entries == [(3, 15)]
    cache.truncate_from_start(15)
    assert cache.entries == [(3, 15)]


def test_the_checkpoint_is_kafkas_text_format_with_a_checksum_line(tmp_path) -> None:
    cache_with(tmp_path, [(0, 0), (2, 17)])

    lines = (tmp_path / FILE_NAME).read_text().splitlines()
    assert lines[:4] == ["1", "2", "0 0", "2 17"] and lines[4].startswith("checksum ")
    assert checkpoint.read(tmp_path / FILE_NAME, 2) == [(0, 0), (2, 17)]
    assert not list(tmp_path.glob("*.tmp"))


def test_opening_rebuilds_the_cache_from_the_batches_and_trims_it_to_the_log(tmp_path, caplog) -> None:
    starts = [(0, 0), (0, 5), (2, 10), (2, 14), (4, 20)]  # one pair per segment scanned, repeats included

    with caplog.at_level(logging.WARNING, logger="cluster.broker.log"):
        cache = LeaderEpochCache.rebuilt(tmp_path, starts, log_start=7, log_end=20)

    assert cache.entries == [(0, 7), (2, 10)]
    assert checkpoint.read(tmp_path / FILE_NAME, 2) == [(0, 7), (2, 10)]
    assert not caplog.records, "a missing checkpoint (a new log) is written without a warning"


@pytest.mark.parametrize(
    "stored",
    [b"", b"1\n0\n", b"0\n2\n1 5\n", b"0\n1\n1 x\n", b"\xff", b"0\n2\n0 0\n2 71\n", b"0\n1\n3 5\n"],
    ids=["empty", "no checksum", "count wrong", "not a number", "not text", "flipped digit", "other epochs"],
)
def test_a_checkpoint_that_disagrees_with_the_batches_is_never_trusted(tmp_path, caplog, stored: bytes) -> None:
    (tmp_path / FILE_NAME).write_bytes(stored)

    with caplog.at_level(logging.WARNING, logger="cluster.broker.log"):
        cache = LeaderEpochCache.rebuilt(tmp_path, [(0, 0), (2, 17)], log_start=0, log_end=30)

    assert cache.entries == [(0, 0), (2, 17)]
    assert checkpoint.read(tmp_path / FILE_NAME, 2) == [(0, 0), (2, 17)], "rewritten from the batches"
    [warning] = [record.getMessage() for record in caplog.records]
    assert "leader-epoch checkpoint" in warning and "batches" in warning


def test_a_checkpoint_write_refused_by_a_full_disk_keeps_the_old_file_and_is_retried(tmp_path, monkeypatch) -> None:
    cache = cache_with(tmp_path, [(0, 0)])
    before = (tmp_path / FILE_NAME).read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", full)
        cache.assign(3, 40)
    assert cache.entries == [(0, 0), (3, 40)] and not cache.saved
    assert (tmp_path / FILE_NAME).read_bytes() == before and not list(tmp_path.glob("*.tmp"))

    cache.retry()
    assert cache.saved and checkpoint.read(tmp_path / FILE_NAME, 2) == [(0, 0), (3, 40)]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 200)), max_size=30))
def test_entries_stay_strictly_increasing_in_epoch_and_offset(tmp_path_factory, assignments) -> None:
    cache = cache_with(tmp_path_factory.mktemp("epochs"), [])
    for epoch, start in assignments:
        cache.assign(epoch, start)
        entries = cache.entries
        assert entries[-1][0] == epoch
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(entries, entries[1:]))
