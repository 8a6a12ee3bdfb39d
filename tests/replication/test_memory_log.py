"""The simulator's in-memory log answers epoch questions exactly as the broker's leader-epoch cache does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.broker.log.epoch_cache import LeaderEpochCache
from cluster.sim.replication.memory_log import MemoryLog, NonContiguousAppend, Record

Operation = tuple[str, int]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 3)),  # epoch increase, then append one record
        st.tuples(st.just("truncate"), st.integers(0, 40)),
        st.tuples(st.just("retain"), st.integers(0, 40)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(operations)
def test_epoch_answers_match_the_leader_epoch_cache(ops: list[Operation]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        cache = LeaderEpochCache(Path(directory) / "leader-epoch-checkpoint", [])
        log = MemoryLog()
        epoch = 0
        for kind, amount in ops:
            if kind == "append":
                epoch += amount
                offset = log.append_as_leader(value=log.log_end_offset, epoch=epoch).base_offset
                if epoch != cache.latest_epoch:
                    cache.assign(epoch, offset)
            elif kind == "truncate":
                log.truncate_to(amount)
                cache.truncate_from_end(log.log_end_offset)
                epoch = max(log.latest_epoch, 0)
            elif amount < log.log_end_offset:  # retention that leaves records (an emptied log forgets epochs)
                log.advance_log_start(amount)
                cache.truncate_from_start(log.log_start_offset)
            assert log.latest_epoch == cache.latest_epoch
            for asked in range(-1, epoch + 3):
                assert log.end_offset_for_epoch(asked) == cache.end_offset_for_epoch(asked, log.log_end_offset)


@given(st.lists(st.integers(0, 5), min_size=1, max_size=20).map(sorted), st.integers(0, 25))
def test_a_snapshot_restores_the_same_log(epochs: list[int], cut: int) -> None:
    log = MemoryLog(3, [Record(3 + i, epoch, i) for i, epoch in enumerate(epochs)])
    log.truncate_to(cut)
    restored = MemoryLog.restore(log.snapshot())
    assert restored.snapshot() == log.snapshot()
    assert [restored.end_offset_for_epoch(e) for e in range(7)] == [log.end_offset_for_epoch(e) for e in range(7)]


def test_follower_records_must_continue_the_log() -> None:
    log = MemoryLog(0, [Record(0, 0, 1)])
    with pytest.raises(NonContiguousAppend):
        log.append_as_follower([Record(2, 0, 3)])
