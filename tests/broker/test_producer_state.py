
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.producer_ids import ProducerIdAllocator
from cluster.broker.producer_state import ProducerStateTable, SequenceError
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.compression import Compression
from cluster.broker.protocol.record_batch import BatchHeader, HEADER, attributes_for

INT32_MAX = 2**31 - 1


def header(producer_id=1, epoch=0, sequence=0, count=1, base_offset=0) -> BatchHeader:
    raw = HEADER.pack(base_offset, 49, 0, 2, 0, 0, count - 1, 0, 0, producer_id, epoch, sequence, count)
    return BatchHeader.parse(raw)


def append(table: ProducerStateTable, batch: BatchHeader, log_end: int) -> tuple[int, int, int]:
    """What a partition does: dedupe or append at the log end; returns (first, last, new log end)."""
    duplicate = table.check(batch)
    if duplicate:
        return duplicate.first_offset, duplicate.last_offset, log_end
    placed = batch._replace(base_offset=log_end)
    table.record(placed)
    return placed.base_offset, placed.last_offset, placed.next_offset


def test_a_retried_batch_gets_its_original_offsets():
    table = ProducerStateTable()
    first = append(table, header(sequence=0, count=3), 0)
    second = append(table, header(sequence=3, count=2), first[2])
    assert append(table, header(sequence=0, count=3), second[2])[:2] == (0, 2)
    assert append(table, header(sequence=3, count=2), second[2])[:2] == (3, 4)


def test_a_gap_is_out_of_order_and_an_old_epoch_is_fenced():
    table = ProducerStateTable()
    append(table, header(epoch=2, sequence=0), 0)
    with pytest.raises(SequenceError) as gap:
        table.check(header(epoch=2, sequence=5))
    assert gap.value.code is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    with pytest.raises(SequenceError) as fenced:
        table.check(header(epoch=1, sequence=1))
    assert fenced.value.code is ErrorCode.INVALID_PRODUCER_EPOCH
    with pytest.raises(SequenceError) as bad_start:
        table.check(header(epoch=3, sequence=4))
    assert bad_start.value.code is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert table.check(header(epoch=3, sequence=0)) is None


def test_only_the_last_five_batches_are_recognised():
    table = ProducerStateTable()
    log_end = 0
    for sequence in range(7):
        log_end = append(table, header(sequence=sequence), log_end)[2]
    assert table.check(header(sequence=2)).first_offset == 2
    with pytest.raises(SequenceError):
        table.check(header(sequence=1))


def test_sequences_wrap_at_int32_max():
    table = ProducerStateTable()
    append(table, header(sequence=INT32_MAX - 1, count=2), 0)
    assert table.check(header(sequence=0)) is None


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4), st.booleans()), max_size=60))
def test_a_producer_that_retries_never_duplicates(sends):
    """Model: several producers, each retrying any of its in-flight batches; the log holds each batch once."""
    table = ProducerStateTable()
    next_sequence = {p: 0 for p in range(4)}
    sent: dict[int, list[tuple[int, int]]] = {p: [] for p in range(4)}
    log: list[tuple[int, int]] = []
    log_end = 0
    for producer, count, retry in sends:
        if retry and sent[producer]:
            sequence, count = sent[producer][-1]
        else:
            sequence = next_sequence[producer]
            next_sequence[producer] += count
            sent[producer].append((sequence, count))
        first, last, new_end = append(table, header(producer_id=producer, sequence=sequence, count=count), log_end)
        if new_end != log_end:
            log.append((producer, sequence))
        log_end = new_end
        assert last - first + 1 == count
    assert len(log) == len(set(log)) == sum(len(s) for s in sent.values())


def test_producer_ids_are_never_reused_across_restarts(tmp_path):
    first = ProducerIdAllocator(tmp_path)
    used = [first.allocate() for _ in range(3)]
    second = ProducerIdAllocator(tmp_path)
    assert second.allocate() > max(used)
    assert ProducerIdAllocator(tmp_path, at_least=10**6).allocate() == 10**6


@pytest.mark.parametrize("damage", ["garbage", "flipped digit", "cut"])
def test_a_damaged_reservation_file_is_reported_and_ids_restart_above_any_handed_out(tmp_path, caplog, damage):
    used = [ProducerIdAllocator(tmp_path).allocate() for _ in range(3)]  # three starts, three blocks
    path = tmp_path / "producer-id-block"
    good = path.read_bytes()
    path.write_bytes({"garbage": b"garbage", "flipped digit": good.replace(b"3000", b"1000"), "cut": good[:-4]}[damage])

    with caplog.at_level(logging.ERROR, logger="cluster.broker.producer_ids"):
        allocated = ProducerIdAllocator(tmp_path).allocate()

    assert allocated > max(used) + 1_000_000_000 and "producer-id-block is corrupt" in caplog.text


def _marker(producer_id: int, epoch: int, base_offset: int) -> BatchHeader:
    return header(producer_id, epoch, -1, 1, base_offset)._replace(attributes=attributes_for(Compression.NONE, True, True))


def test_markers_carry_no_sequence_and_fence_older_producer_and_coordinator_epochs():
    table = ProducerStateTable()
    end = append(table, header(sequence=0, count=2), 0)[2]
    table.check(_marker(1, 0, end), coordinator_epoch=3)
    table.record(_marker(1, 0, end), coordinator_epoch=3)
    assert append(table, header(sequence=2), end + 1)[:2] == (end + 1, end + 1), "sequences go on after a marker"
    with pytest.raises(SequenceError) as deposed:
        table.check(_marker(1, 0, end + 2), coordinator_epoch=2)
    assert deposed.value.code == ErrorCode.TRANSACTION_COORDINATOR_FENCED
    table.record(_marker(1, 1, end + 2), coordinator_epoch=4)  # an abort by timeout bumped the epoch
    with pytest.raises(SequenceError) as fenced:
        table.check(header(epoch=0, sequence=3))
    assert fenced.value.code == ErrorCode.INVALID_PRODUCER_EPOCH
