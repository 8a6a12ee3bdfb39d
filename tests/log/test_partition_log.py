"""The partition log's operations, one behaviour at a time, through its public interface."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.broker.log import (
    BatchTooLargeError,
    checkpoint,
    InvalidBatchError,
    LogConfig,
    NonContiguousAppendError,
    OffsetOutOfRangeError,
    PartitionLog,
)
from cluster.broker.protocol.record_batch import BatchHeader
from cluster.broker.protocol.records import Record, build_batch
from tests.log.batches import kill_process_files, make_batch, read_all, segment_files, split_batches, stamped


class Clock:
    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def open_log(directory, clock: Clock | None = None, **config: int) -> PartitionLog:
    return PartitionLog.open(directory, LogConfig(**config), clock=clock or Clock())


# --- append -------------------------------------------------------------------------------------


def test_append_assigns_offsets_and_stamps_only_offset_and_epoch(tmp_path) -> None:
    log = open_log(tmp_path)
    first, second = make_batch(3, 100), make_batch(2, 200)

    infos = [log.append(bytes(first), leader_epoch=4), log.append(bytes(second), leader_epoch=4)]

    assert [(i.first_offset, i.last_offset, i.max_timestamp) for i in infos] == [(0, 2, 102), (3, 4, 201)]
    assert split_batches(read_all(log)) == [stamped(first, 0, 4), stamped(second, 3, 4)]
    assert log.log_end_offset == 5


def test_a_bytearray_is_stamped_in_place_and_bytes_are_left_alone(tmp_path) -> None:
    log = open_log(tmp_path)
    log.append(make_batch(1, 1), leader_epoch=0)
    mutable, immutable = make_batch(1, 2), bytes(make_batch(1, 3))

    log.append(mutable, leader_epoch=9)
    log.append(immutable, leader_epoch=9)

    assert bytes(mutable) == stamped(mutable, 1, 9)
    assert immutable == bytes(make_batch(1, 3))


def test_one_append_may_carry_several_batches(tmp_path) -> None:
    log = open_log(tmp_path)
    batches = [make_batch(2, 10), make_batch(1, 20), make_batch(4, 30)]

    info = log.append(b"".join(batches), leader_epoch=1)

    assert (info.first_offset, info.last_offset) == (0, 6)
    assert split_batches(read_all(log)) == [stamped(batches[0], 0, 1), stamped(batches[1], 2, 1), stamped(batches[2], 3, 1)]


@pytest.mark.parametrize(
    "damage",
    ["flip a record bit", "bad magic", "torn", "trailing garbage", "empty", "length below a header"],
)
def test_invalid_appends_are_refused_and_write_nothing(tmp_path, damage: str) -> None:
    log = open_log(tmp_path)
    log.append(make_batch(1, 1), leader_epoch=0)
    before = segment_files(tmp_path)[0].read_bytes()
    batch = make_batch(3, 5)
    if damage == "flip a record bit":
        batch[-3] ^= 0x01
    elif damage == "bad magic":
        batch[16] = 1
    elif damage == "torn":
        batch = batch[:-1]
    elif damage == "trailing garbage":
        batch = make_batch(1, 5) + batch[:30]
    elif damage == "empty":
        batch = bytearray()
    else:
        batch[8:12] = (10).to_bytes(4, "big")

    with pytest.raises(InvalidBatchError):
        log.append(batch, leader_epoch=0)

    assert log.log_end_offset == 1
    assert segment_files(tmp_path)[0].read_bytes() == before


def test_batches_over_max_message_bytes_are_refused(tmp_path) -> None:
    batch = make_batch(5, 0, value_size=100)
    log = open_log(tmp_path, max_message_bytes=len(batch) - 1)

    with pytest.raises(BatchTooLargeError, match="max.message.bytes"):
        log.append(batch, leader_epoch=0)

    assert log.log_end_offset == 0


# --- follower appends ---------------------------------------------------------------------------


def test_follower_appends_keep_offsets_and_epochs_and_must_be_contiguous(tmp_path) -> None:
    leader = open_log(tmp_path / "leader")
    for epoch in (1, 1, 3):
        leader.append(make_batch(2, 50), leader_epoch=epoch)
    follower = open_log(tmp_path / "follower")

    follower.append_as_follower(leader.read(0, 1 << 20).read_bytes())

    assert read_all(follower) == read_all(leader)
    assert follower.epoch_cache.entries == leader.epoch_cache.entries == [(1, 0), (3, 4)]
    with pytest.raises(NonContiguousAppendError, match="ends at 6"):
        follower.append_as_follower(leader.read(2, 1 << 20).read_bytes())
    assert follower.log_end_offset == 6


# --- read ---------------------------------------------------------------------------------------


def test_reads_start_at_the_batch_holding_the_offset_and_return_whole_batches(tmp_path) -> None:
    log = open_log(tmp_path, index_interval_bytes=0)
    batches = [make_batch(3, n) for n in range(6)]
    for batch in batches:
        log.append(batch, leader_epoch=0)
    size = len(batches[0])

    region = log.read(7, max_bytes=2 * size + size // 2)

    assert split_batches(region.read_bytes()) == [stamped(batches[2], 6, 0), stamped(batches[3], 9, 0)]
    assert region.next_offset == 12


def test_a_read_returns_one_whole_batch_even_above_max_bytes(tmp_path) -> None:
    log = open_log(tmp_path)
    batch = make_batch(4, 0, value_size=300)
    log.append(batch, leader_epoch=0)

    region = log.read(2, max_bytes=10)

    assert region.read_bytes() == stamped(batch, 0, 0)
    assert region.next_offset == 4


def test_upper_bound_keeps_out_batches_that_reach_it(tmp_path) -> None:
    log = open_log(tmp_path)
    for n in range(3):
        log.append(make_batch(2, n), leader_epoch=0)

    assert log.read(0, 1 << 20, upper_bound=4).next_offset == 4
    assert log.read(0, 1 << 20, upper_bound=3).next_offset == 2
    assert log.read(2, 1 << 20, upper_bound=3).length == 0
    assert log.read(4, 1 << 20, upper_bound=4).length == 0


def test_reads_outside_the_log_raise_and_at_the_end_are_empty(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=200)
    for n in range(6):
        log.append(make_batch(1, n, value_size=60), leader_epoch=0)
    log.truncate_fully_and_start_at(10)
    log.append(make_batch(1, 0), leader_epoch=1)

    with pytest.raises(OffsetOutOfRangeError, match=r"offset 9 is outside the log \[10, 11\]"):
        log.read(9, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(12, 100)
    empty = log.read(11, 100)
    assert (empty.length, empty.next_offset) == (0, 11)


def test_regions_go_out_through_sendfile(tmp_path) -> None:
    log = open_log(tmp_path)
    batches = [make_batch(2, n, value_size=500) for n in range(4)]
    for batch in batches:
        log.append(batch, leader_epoch=2)
    region = log.read(0, 1 << 20)
    sender, receiver = socket.socketpair()
    received = bytearray()
    drainer = threading.Thread(target=lambda: [received.extend(c) for c in iter(lambda: receiver.recv(65536), b"")])
    drainer.start()

    sent = 0
    while sent < region.length:
        sent += os.sendfile(sender.fileno(), region.fileno(), region.position + sent, region.length - sent)
    sender.close()
    drainer.join()
    receiver.close()

    assert bytes(received) == b"".join(stamped(b, 2 * n, 2) for n, b in enumerate(batches))


# --- rolling ------------------------------------------------------------------------------------


def test_segments_roll_at_segment_bytes(tmp_path) -> None:
    batch = make_batch(1, 0, value_size=100)
    log = open_log(tmp_path, segment_bytes=3 * len(batch))
    for _ in range(7):
        log.append(batch, leader_epoch=0)

    assert log.segment_base_offsets == [0, 3, 6]
    assert [path.name for path in segment_files(tmp_path)] == [f"{base:020d}.log" for base in (0, 3, 6)]


def test_segments_roll_after_segment_ms_of_record_time(tmp_path) -> None:
    log = open_log(tmp_path, segment_ms=1_000)
    log.append(make_batch(1, 10_000), leader_epoch=0)
    log.append(make_batch(1, 11_000), leader_epoch=0)

    log.append(make_batch(1, 11_001), leader_epoch=0)

    assert log.segment_base_offsets == [0, 2]


def test_segments_roll_before_a_relative_offset_would_overflow_int32(tmp_path) -> None:
    log = open_log(tmp_path)
    wide = build_batch([Record(0, 1), Record(2**31 - 1, 2)])
    log.append(wide, leader_epoch=0)

    log.append(make_batch(1, 3), leader_epoch=0)

    assert log.segment_base_offsets == [0, 2**31]
    assert log.read(2**31, 100).next_offset == 2**31 + 1


@settings(max_examples=60)
@given(
    appends=st.lists(
        st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3_000)), min_size=1, max_size=4), min_size=1, max_size=10
    ),
    segment_bytes=st.sampled_from([250, 600, 1_500]),
    segment_ms=st.sampled_from([400, 1_500, 10_000]),
)
def test_appends_of_several_batches_roll_exactly_where_the_rules_say(appends, segment_bytes, segment_ms) -> None:
    """Whole appends that fit skip the batch-by-batch roll checks: they must land where those checks would."""
    groups = [[make_batch(records, timestamp) for records, timestamp in group] for group in appends]
    with tempfile.TemporaryDirectory() as directory:
        log = open_log(Path(directory), segment_bytes=segment_bytes, segment_ms=segment_ms)
        for group in groups:
            log.append(b"".join(group), leader_epoch=0)

        assert log.segment_base_offsets == _roll_points(groups, segment_bytes, segment_ms)
        assert split_batches(read_all(log)) == split_batches(b"".join(stamped_in_order(groups)))


def _roll_points(groups: list[list[bytearray]], segment_bytes: int, segment_ms: int) -> list[int]:
    """Segment bases by the log's rules, batch by batch: a batch that does not fit in the active segment's
    bytes, or that comes segment.ms of record time after its first batch, starts a new segment; an
    append's batches are written together, so those before the roll count as present."""
    bases, size, first_timestamp, offset = [0], 0, 0, 0
    for group in groups:
        pending = 0
        for batch in group:
            header = BatchHeader.parse(batch)
            used = size + pending
            if used and (used + len(batch) > segment_bytes or (size and header.max_timestamp - first_timestamp > segment_ms)):
                bases.append(offset)
                size, pending = 0, 0
            if size + pending == 0:
                first_timestamp = header.max_timestamp
            pending += len(batch)
            offset += header.last_offset_delta + 1
        size += pending
    return bases


def stamped_in_order(groups: list[list[bytearray]]) -> list[bytes]:
    batches, offset = [], 0
    for batch in (batch for group in groups for batch in group):
        batches.append(stamped(batch, offset, 0))
        offset += BatchHeader.parse(batch).last_offset_delta + 1
    return batches


# --- timestamps ---------------------------------------------------------------------------------


def test_offset_for_timestamp_finds_the_first_record_at_or_after_it(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=400, index_interval_bytes=100)
    for n in range(10):
        log.append(make_batch(3, 1_000 + 10 * n), leader_epoch=0)  # batch n: timestamps 1000+10n .. +2

    assert log.offset_for_timestamp(0) == 0
    assert log.offset_for_timestamp(1_041) == 13
    assert log.offset_for_timestamp(1_043) == 15
    assert log.offset_for_timestamp(1_092) == 29
    assert log.offset_for_timestamp(1_093) is None
    log.close()
    reopened = open_log(tmp_path, segment_bytes=400, index_interval_bytes=100)
    assert reopened.offset_for_timestamp(1_041) == 13


# --- retention ----------------------------------------------------------------------------------


def test_time_retention_deletes_segments_whose_newest_record_is_older_than_retention_ms(tmp_path) -> None:
    clock = Clock(now=100_000)
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, clock, segment_bytes=2 * batch_size, retention_ms=10_000)
    for timestamp in (50_000, 51_000, 95_000, 96_000, 97_000):
        log.append(make_batch(1, timestamp), leader_epoch=0)

    deleted = log.apply_retention()

    assert [(d.base_offset, d.next_offset) for d in deleted] == [(0, 2)]
    assert log.log_start_offset == 2
    with pytest.raises(OffsetOutOfRangeError):
        log.read(1, 100)


def test_a_clock_stepped_past_retention_ms_deletes_every_segment_the_active_one_rolled_first(tmp_path) -> None:
    """Kafka's rule: a breached, non-empty active segment is rolled and deleted too; the log then
    starts at its end, in an empty segment, and goes on from there."""
    clock = Clock(now=100_000)
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, clock, segment_bytes=2 * batch_size, retention_ms=10_000)
    for timestamp in (95_000, 96_000, 97_000):
        log.append(make_batch(1, timestamp), leader_epoch=3)
    assert log.apply_retention() == []

    clock.now += 86_400_000
    deleted = log.apply_retention()

    assert [(d.base_offset, d.next_offset) for d in deleted] == [(0, 2), (2, 3)]
    assert (log.log_start_offset, log.log_end_offset, log.segment_base_offsets) == (3, 3, [3])
    with pytest.raises(OffsetOutOfRangeError):
        log.read(2, 100)
    assert log.read(3, 100).length == 0
    assert log.apply_retention() == [], "an empty active segment is never deleted"
    assert log.append(make_batch(1, clock.now), leader_epoch=3).first_offset == 3
    log.close()
    assert open_log(tmp_path, clock, retention_ms=10_000).log_start_offset == 3


def test_a_clock_stepped_back_keeps_what_it_would_have_deleted(tmp_path) -> None:
    clock = Clock(now=100_000)
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, clock, segment_bytes=2 * batch_size, retention_ms=10_000)
    for timestamp in (50_000, 51_000, 52_000):
        log.append(make_batch(1, timestamp), leader_epoch=0)

    clock.now -= 86_400_000

    assert log.apply_retention() == []
    assert log.log_start_offset == 0


def test_retention_deletes_no_segment_that_reaches_the_high_watermark(tmp_path) -> None:
    clock = Clock(now=10_000_000)
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, clock, segment_bytes=2 * batch_size, retention_ms=10_000)
    for timestamp in range(5):
        log.append(make_batch(1, timestamp), leader_epoch=0)

    assert [d.base_offset for d in log.apply_retention(high_watermark=3)] == [0]
    assert [d.base_offset for d in log.apply_retention(high_watermark=4)] == [2]
    assert log.apply_retention(high_watermark=4) == []
    assert [d.base_offset for d in log.apply_retention(high_watermark=5)] == [4]
    assert log.log_start_offset == log.log_end_offset == 5


def test_size_retention_deletes_oldest_segments_until_under_retention_bytes(tmp_path) -> None:
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, segment_bytes=2 * batch_size, retention_bytes=3 * batch_size, retention_ms=-1)
    for n in range(7):
        log.append(make_batch(1, n), leader_epoch=n)

    deleted = log.apply_retention()

    assert [d.base_offset for d in deleted] == [0, 2]
    assert log.size <= 3 * batch_size
    assert log.epoch_cache.entries == [(4, 4), (5, 5), (6, 6)]
    assert log.apply_retention() == []


# --- truncation and epochs -------------------------------------------------------------------


def test_truncate_to_drops_the_suffix_and_its_epochs(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=300)
    for epoch in (0, 0, 1, 1, 2, 2):
        log.append(make_batch(2, 0, value_size=50), leader_epoch=epoch)
    assert log.end_offset_for_epoch(1) == (1, 8)

    log.truncate_to(7)

    assert log.log_end_offset == 6
    assert log.epoch_cache.entries == [(0, 0), (1, 4)]
    assert log.end_offset_for_epoch(1) == (1, 6)
    assert log.end_offset_for_epoch(2) == (-1, -1)
    info = log.append(make_batch(1, 0), leader_epoch=3)
    assert info.first_offset == 6


def test_truncate_fully_and_start_at_restarts_the_log(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=300)
    for _ in range(5):
        log.append(make_batch(2, 0, value_size=50), leader_epoch=1)

    log.truncate_fully_and_start_at(1_000)

    assert (log.log_start_offset, log.log_end_offset) == (1_000, 1_000)
    assert log.epoch_cache.entries == []
    assert [path.name for path in segment_files(tmp_path)] == [f"{1_000:020d}.log"]
    assert log.append(make_batch(1, 0), leader_epoch=2).first_offset == 1_000


def test_advance_log_start_hides_records_below_it_and_deletes_segments_wholly_below(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=300)
    for epoch in (0, 0, 1, 1, 2, 2):
        log.append(make_batch(2, 0, value_size=50), leader_epoch=epoch)  # one batch per segment
    stored = split_batches(read_all(log))

    log.advance_log_start(5)

    assert log.log_start_offset == 5
    assert log.segment_base_offsets == [4, 6, 8, 10], "segments 0..1 and 2..3 lay wholly below the new start"
    assert log.epoch_cache.entries == [(1, 5), (2, 8)]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(4, 1_000)
    assert split_batches(read_all(log)) == stored[2:], "a read at the start returns the batch holding it"
    assert log.offset_for_timestamp(0) == 5


def test_advance_log_start_is_clamped_to_the_log_end_and_never_moves_back(tmp_path) -> None:
    log = open_log(tmp_path, segment_bytes=300)
    for _ in range(3):
        log.append(make_batch(2, 0, value_size=50), leader_epoch=1)

    log.advance_log_start(100)
    log.advance_log_start(2)

    assert (log.log_start_offset, log.log_end_offset) == (6, 6)
    assert log.read(6, 1_000).length == 0
    assert log.append(make_batch(1, 0), leader_epoch=1).first_offset == 6


@pytest.mark.parametrize("shutdown", ["close", "crash"])
def test_an_advanced_log_start_survives_a_restart(tmp_path, shutdown: str) -> None:
    log = open_log(tmp_path, segment_bytes=300)
    for _ in range(4):
        log.append(make_batch(2, 0, value_size=50), leader_epoch=1)
    log.flush()
    log.advance_log_start(3)
    if shutdown == "close":
        log.close()
    else:
        kill_process_files(tmp_path)

    reopened = open_log(tmp_path, segment_bytes=300)

    assert (reopened.log_start_offset, reopened.log_end_offset) == (3, 8)
    assert reopened.epoch_cache.entries == [(1, 3)]
    with pytest.raises(OffsetOutOfRangeError):
        reopened.read(2, 1_000)


def test_a_crash_that_loses_the_tail_below_an_advanced_start_restarts_the_log_there(tmp_path) -> None:
    log = open_log(tmp_path)
    log.append(make_batch(2, 0), leader_epoch=1)
    log.flush()
    last = make_batch(3, 0)
    log.append(last, leader_epoch=1)
    log.advance_log_start(4)
    kill_process_files(tmp_path)
    segment = segment_files(tmp_path)[0]
    os.truncate(segment, segment.stat().st_size - 1)  # the unflushed batch holding offset 4 is torn

    reopened = open_log(tmp_path)

    assert (reopened.log_start_offset, reopened.log_end_offset) == (4, 4)
    assert reopened.epoch_cache.entries == []
    assert reopened.append(make_batch(1, 0), leader_epoch=2).first_offset == 4


def test_truncating_into_the_batch_holding_the_log_start_moves_the_start_back_to_the_new_end(tmp_path) -> None:
    log = open_log(tmp_path)
    log.append(make_batch(2, 0), leader_epoch=0)
    log.append(make_batch(4, 0), leader_epoch=1)  # offsets 2..5
    log.advance_log_start(3)

    log.truncate_to(4)

    assert (log.log_start_offset, log.log_end_offset) == (2, 2)
    log.close()
    assert open_log(tmp_path).log_start_offset == 2


def test_retention_after_an_advanced_start_keeps_the_higher_start(tmp_path) -> None:
    batch_size = len(make_batch(1, 0))
    log = open_log(tmp_path, segment_bytes=2 * batch_size, retention_bytes=4 * batch_size, retention_ms=-1)
    for _ in range(6):
        log.append(make_batch(1, 0), leader_epoch=0)
    log.advance_log_start(3)

    assert [d.base_offset for d in log.apply_retention()] == []
    assert log.log_start_offset == 3
    log.append(make_batch(1, 0), leader_epoch=0)
    log.append(make_batch(1, 0), leader_epoch=0)
    assert [d.base_offset for d in log.apply_retention()] == [2]
    assert log.log_start_offset == 4


# --- durability ---------------------------------------------------------------------------------


def test_flush_interval_messages_advances_the_recovery_point(tmp_path) -> None:
    log = open_log(tmp_path, flush_interval_messages=5)
    log.append(make_batch(3, 0), leader_epoch=0)
    assert log.recovery_point == 0

    log.append(make_batch(3, 0), leader_epoch=0)

    assert log.recovery_point == 6
    assert checkpoint.read(tmp_path / "recovery-point-offset-checkpoint", 1) == [(6,)]


def test_flush_interval_ms_flushes_once_the_interval_has_passed(tmp_path) -> None:
    clock = Clock()
    log = open_log(tmp_path, clock, flush_interval_ms=1_000)
    log.append(make_batch(1, 0), leader_epoch=0)
    assert log.recovery_point == 0

    clock.now += 1_000
    log.maybe_flush()

    assert log.recovery_point == 1


def test_flushing_is_off_by_default_until_a_roll_or_close(tmp_path) -> None:
    batch = make_batch(1, 0)
    log = open_log(tmp_path, segment_bytes=2 * len(batch))
    for _ in range(2):
        log.append(batch, leader_epoch=0)
    assert log.recovery_point == 0

    log.append(batch, leader_epoch=0)
    assert log.recovery_point == 2, "a roll flushes the segment it closes"
    log.close()
    assert (tmp_path / ".kafka_cleanshutdown").exists()
    assert open_log(tmp_path).recovery_point == 3
    assert not (tmp_path / ".kafka_cleanshutdown").exists(), "the marker goes as soon as the log is open"
