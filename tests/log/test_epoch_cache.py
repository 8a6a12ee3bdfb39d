"""The leader-epoch cache: KIP-101/279 answers, Kafka's truncation rules, its checkpoint file."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.log import UNDEFINED_EPOCH, UNDEFINED_OFFSET, LeaderEpochCache


def cache_with(tmp_path, entries: list[tuple[int, int]]) -> LeaderEpochCache:
    cache, _ = LeaderEpochCache.load(tmp_path)
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


def test_the_checkpoint_is_kafkas_text_format_and_survives_reloading(tmp_path) -> None:
    cache_with(tmp_path, [(0, 0), (2, 17)])

    assert (tmp_path / "leader-epoch-checkpoint").read_text() == "0\n2\n0 0\n2 17\n"
    reloaded, usable = LeaderEpochCache.load(tmp_path)
    assert usable and reloaded.entries == [(0, 0), (2, 17)]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("text", ["", "1\n0\n", "0\n2\n1 5\n", "0\n1\n1 x\n", "0\n2\n3 5\n2 9\n", "\xff"])
def test_unreadable_checkpoints_are_reported_as_unusable(tmp_path, text: str) -> None:
    (tmp_path / "leader-epoch-checkpoint").write_bytes(text.encode("latin-1"))

    cache, usable = LeaderEpochCache.load(tmp_path)

    assert not usable and cache.entries == []


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 200)), max_size=30))
def test_entries_stay_strictly_increasing_in_epoch_and_offset(tmp_path_factory, assignments) -> None:
    cache = cache_with(tmp_path_factory.mktemp("epochs"), [])
    for epoch, start in assignments:
        cache.assign(epoch, start)
        entries = cache.entries
        assert entries[-1][0] == epoch
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(entries, entries[1:]))
