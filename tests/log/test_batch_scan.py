"""The compiled batch scan against record_batch.validate, the reference for the rules.

Batches are built, then damaged the ways a wire or a disk damages them (a flipped
bit, a cut, a length that lies) or forged (a bad field under a good CRC), and both sides must agree on every buffer: the
same batches when valid, the same first bad position when not, and, for the
leader's stamp, the same bytes as stamping one batch at a time.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.log import batch_scan
from cluster.broker.log.batch_scan import BatchRejected, check_batches, stamp_batches
from cluster.broker.protocol.record_batch import BatchHeader, CorruptBatchError, crc_of, stamp, stamp_log_append_time, validate
from cluster.broker.protocol.records import Record, build_batch, decode_records

NO_LIMIT = 1 << 31
NO_TIMESTAMP = -1
"""Kafka's floor for a run's largest timestamp (LogValidator starts from RecordBatch.NO_TIMESTAMP)."""
_CHECKED_FIELDS = [(16, 1), (21, 2), (23, 4), (57, 4)]
"""(position, width) of magic, attributes, lastOffsetDelta and recordsCount: a forged batch
sets one and recomputes the CRC, so the framing rules are tested on their own."""


@st.composite
def batch_runs(draw: st.DrawFn) -> bytearray:
    """One to four producer batches back to back, with varied record counts, sizes and timestamps."""
    run = bytearray()
    for _ in range(draw(st.integers(1, 4))):
        timestamp = draw(st.integers(0, 2**41))
        records = [
            Record(i, timestamp + draw(st.integers(-5, 5)), value=b"v" * draw(st.integers(0, 40)))
            for i in range(draw(st.integers(1, 5)))
        ]
        run += build_batch(records)
    return run


@st.composite
def damaged(draw: st.DrawFn, run: bytearray) -> bytearray:
    damage = draw(st.sampled_from(["none", "flip", "cut", "length", "forge"]))
    run = bytearray(run)
    if damage == "flip":
        at = draw(st.integers(0, len(run) - 1))
        run[at] ^= 1 << draw(st.integers(0, 7))
    elif damage == "cut":
        del run[draw(st.integers(1, len(run) - 1)) :]
    elif damage == "length":
        run[8:12] = draw(st.integers(-(2**31), 2**31 - 1)).to_bytes(4, "big", signed=True)
    elif damage == "forge":
        at, width = draw(st.sampled_from(_CHECKED_FIELDS))
        run[at : at + width] = draw(st.binary(min_size=width, max_size=width))
        run[17:21] = crc_of(run, 0, BatchHeader.parse(run).size).to_bytes(4, "big")
    return run


def reference(buffer: bytes | bytearray, max_batch_bytes: int) -> list[tuple[int, int, int, int, int, int]] | int:
    """What validate() finds: each batch as check_batches reports it, or the position of the first bad one."""
    found, position = [], 0
    while position < len(buffer):
        try:
            header = validate(buffer, position)
        except CorruptBatchError:
            return position
        if header.size > max_batch_bytes:
            return position
        found.append((position, header.base_offset, header.last_offset, header.partition_leader_epoch, header.max_timestamp, header.size))
        position += header.size
    return found


def scanned(buffer: bytes | bytearray, max_batch_bytes: int) -> list[tuple[int, int, int, int, int, int]] | int:
    try:
        return check_batches(buffer, max_batch_bytes)
    except BatchRejected as rejected:
        return rejected.args[0]


@given(data=st.data(), max_batch_bytes=st.one_of(st.just(NO_LIMIT), st.integers(0, 400)))
def test_check_agrees_with_validate_on_intact_and_damaged_batches(data, max_batch_bytes):
    buffer = data.draw(damaged(data.draw(batch_runs())))
    assert scanned(bytes(buffer), max_batch_bytes) == reference(buffer, max_batch_bytes)


@given(
    data=st.data(), base_offset=st.integers(0, 2**62), epoch=st.integers(0, 2**31 - 1),
    log_append_time=st.one_of(st.just(NO_TIMESTAMP), st.integers(0, 2**62)),
)
def test_stamping_a_run_matches_stamping_each_batch(data, base_offset, epoch, log_append_time):
    """With a log append time, every batch is also marked LogAppendTime at that time, its CRC made anew."""
    buffer = data.draw(damaged(data.draw(batch_runs())))
    expected = reference(buffer, NO_LIMIT)
    original = bytes(buffer)
    try:
        placements, next_offset, max_timestamp = stamp_batches(buffer, base_offset, epoch, NO_LIMIT, log_append_time)
    except BatchRejected as rejected:
        assert rejected.args[0] == expected
        assert buffer == original, "a rejected run must not be stamped"
        return
    by_hand, offset = bytearray(original), base_offset
    for position, base, last, _, timestamp, size in expected:
        stamp(by_hand, position, offset, epoch)
        if log_append_time >= 0:
            stamp_log_append_time(by_hand, position, log_append_time)
            timestamp = log_append_time
        offset += last - base
        assert placements.pop(0) == (position, offset, timestamp, size)
        offset += 1
    assert buffer == by_hand
    assert next_offset == offset
    assert max_timestamp == max(NO_TIMESTAMP, *(batch[4] for batch in reference(by_hand, NO_LIMIT)))


def test_a_log_append_time_batch_is_valid_and_every_record_reads_the_stamped_time():
    batch = build_batch([Record(i, 1_000 + i, value=b"v") for i in range(3)])
    stamp_batches(batch, 7, 1, NO_LIMIT, 555)
    header = validate(batch)
    assert header.uses_log_append_time and (header.max_timestamp, header.base_timestamp) == (555, 1_000)
    assert [(r.offset, r.timestamp) for r in decode_records(batch)] == [(7, 555), (8, 555), (9, 555)]


def test_a_run_past_the_gil_threshold_is_checked_the_same():
    """Large runs are scanned (and stamped with a log append time) without the GIL; the answer must not change."""
    batch = build_batch([Record(i, 1_700_000_000_000, value=b"x" * 1000) for i in range(8)])
    run = batch * (batch_scan.DETACH_BYTES // len(batch) + 2)
    assert len(run) > batch_scan.DETACH_BYTES
    assert scanned(bytes(run), NO_LIMIT) == reference(run, NO_LIMIT)
    stamped = bytearray(run)
    stamp_batches(stamped, 0, 0, NO_LIMIT, 42)
    assert {batch[4] for batch in reference(stamped, NO_LIMIT)} == {42}
    run[-1] ^= 0xFF
    assert scanned(bytes(run), NO_LIMIT) == reference(run, NO_LIMIT) == len(run) - len(batch)


def test_stamping_needs_a_writable_buffer():
    batch = build_batch([Record(0, 0, value=b"x")])
    with pytest.raises(TypeError, match="writable"):
        stamp_batches(bytes(batch), 0, 0, NO_LIMIT)
    with pytest.raises(TypeError, match="writable"):
        stamp_batches(memoryview(bytes(batch)), 0, 0, NO_LIMIT)


def test_an_empty_buffer_holds_no_batches():
    assert check_batches(b"", NO_LIMIT) == []
    assert stamp_batches(bytearray(), 5, 0, NO_LIMIT) == ([], 5, -1)
