"""Producer state rebuilt from a snapshot and the batches after it must be the state replaying the whole
history gives: through rolls, truncations, log-start moves, clean and unclean restarts."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.broker.log.config import LogConfig
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.log.snapshot_files import offsets as snapshot_offsets
from cluster.broker.log.snapshot_files import path_of
from cluster.broker.partition import Partition
from cluster.broker.producer_snapshots import PartitionState, replay, snapshot_of
from cluster.broker.producer_state import ProducerStateTable, SequenceError
from cluster.broker.protocol.record_batch import BatchHeader
from cluster.broker.protocol.records import Record, build_batch
from cluster.broker.transactions.markers import marker_batch, read_marker
from cluster.broker.transactions.partition_state import PartitionTransactions
from tests.log.batches import kill_process_files, read_all

SMALL_SEGMENTS = LogConfig(segment_bytes=400)
"""A roll every few batches."""
IDEMPOTENT = range(0, 3)
TRANSACTIONAL = range(10, 12)


def batch(producer_id: int, epoch: int, sequence: int, count: int, transactional: bool) -> bytearray:
    records = [Record(offset=i, timestamp=1_700_000_000_000 + i, value=b"v%d" % i) for i in range(count)]
    return build_batch(records, producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence,
                       transactional=transactional)


def open_partition(directory: Path) -> Partition:
    return Partition("t", 0, PartitionLog.open(directory, SMALL_SEGMENTS), broker_id=0)


def comparable(state: PartitionState) -> tuple:
    transactions = state.transactions
    return state.producers.entries(), transactions.ongoing, transactions.unreplicated, transactions.aborted


def state_of(partition: Partition) -> tuple:
    return comparable(PartitionState(partition.producers, partition.transactions))


def full_scan(partition: Partition) -> tuple:
    """The state replaying every stored batch gives, ignoring snapshots (what an open did before them)."""
    state = PartitionState(ProducerStateTable(), PartitionTransactions())
    replay(partition.log, state, 0)
    state.transactions.forget_below(partition.log.log_start_offset)
    return comparable(state)


@dataclass
class Producer:
    epoch: int = 0
    sequence: int = 0
    sent: list[bytearray] = field(default_factory=list)


sends = st.tuples(st.just("send"), st.sampled_from([*IDEMPOTENT, *TRANSACTIONAL]), st.integers(1, 3))
operations = st.lists(st.one_of(
    sends, sends, sends, sends,
    st.tuples(st.just("retry"), st.sampled_from([*IDEMPOTENT, *TRANSACTIONAL]), st.integers(0, 4)),
    st.tuples(st.just("end"), st.sampled_from(TRANSACTIONAL), st.booleans()),
    st.tuples(st.just("bump"), st.sampled_from([*IDEMPOTENT, *TRANSACTIONAL]), st.just(0)),
    st.tuples(st.just("truncate"), st.integers(0, 100), st.just(0)),
    st.tuples(st.just("start"), st.integers(0, 100), st.just(0)),
    st.tuples(st.just("restart"), st.booleans(), st.just(0)),
), max_size=80)


class History:
    """Every batch the partition holds and held (the model): replayed, it is the state to expect."""

    def __init__(self) -> None:
        self.batches: list[tuple[BatchHeader, tuple[bool, int] | None]] = []

    def expected(self, log_start: int) -> tuple:
        state = PartitionState(ProducerStateTable(), PartitionTransactions())
        for header, marker in self.batches:
            state.producers.record(header, marker[1] if marker else -1)
            state.transactions.record(header, marker[0] if marker else None)
        state.transactions.forget_below(log_start)
        return comparable(state)

    def cut(self, end: int) -> None:
        """A truncation to `end` (0: to the log start, which empties the log and forgets every producer)."""
        self.batches = [(header, marker) for header, marker in self.batches if header.base_offset < end]


def run(directory: Path, steps: list[tuple[str, int, object]]) -> None:
    partition = open_partition(directory)
    history = History()
    producers = {producer_id: Producer() for producer_id in [*IDEMPOTENT, *TRANSACTIONAL]}
    for step in steps:
        partition = apply(partition, history, producers, directory, step)
        check(partition, history)
    partition.close()
    check(open_partition(directory), history)


def apply(partition: Partition, history: History, producers: dict[int, Producer], directory: Path,
          step: tuple[str, int, object]) -> Partition:
    kind, argument, extra = step
    log = partition.log
    if kind == "send":
        producer = producers[argument]
        data = batch(argument, producer.epoch, producer.sequence, int(extra), argument in TRANSACTIONAL)
        append(partition, history, data)
        producer.sequence += int(extra)
        producer.sent.append(data)
    elif kind == "retry" and producers[argument].sent:
        sent = producers[argument].sent
        append(partition, history, sent[max(len(sent) - 1 - int(extra), 0)])
    elif kind == "end":
        append(partition, history, marker_batch(argument, producers[argument].epoch, bool(extra), 0, 1))
    elif kind == "bump":
        producers[argument] = Producer(producers[argument].epoch + 1)
    elif kind == "truncate" and log.log_end_offset > 0:
        target = log.log_end_offset * argument // 100
        restarts_empty = target < log.log_end_offset and target <= log.log_start_offset
        partition.truncate_to(target)
        history.cut(0 if restarts_empty else log.log_end_offset)
        resync(producers, partition)
    elif kind == "start":
        partition.advance_log_start(log.log_end_offset * argument // 100)
    elif kind == "restart":
        if argument:
            partition.close()
        else:
            kill_process_files(directory)
        return open_partition(directory)
    return partition


def resync(producers: dict[int, Producer], partition: Partition) -> None:
    """After a truncation, each producer goes on from its last batch the partition still holds, as a
    producer retrying what a leader change lost would."""
    for entry in partition.producers.entries():
        producer = producers[entry.producer_id]
        if entry.epoch == producer.epoch and entry.batches:
            producer.sequence = entry.batches[-1].last_sequence + 1


def append(partition: Partition, history: History, data: bytearray) -> None:
    """As the leader: a batch the producer state refuses or recognises as a retry leaves the log as it was."""
    try:
        result = partition.append_as_leader(bytearray(data), leader_epoch=0)
    except SequenceError:
        return
    if not result.duplicate:
        stored = partition.log.read(result.base_offset, 1 << 20).read_bytes()
        header = BatchHeader.parse(stored)
        history.batches.append((header, read_marker(stored[:header.size]) if header.is_control else None))


def check(partition: Partition, history: History) -> None:
    log = partition.log
    assert all(log.segment_base_offsets[0] <= offset <= log.log_end_offset
               for offset in snapshot_offsets(log.directory)), "only snapshots the log's batches back are kept"
    assert state_of(partition) == history.expected(partition.log.log_start_offset)
    if partition.log.segment_base_offsets[0] == 0:
        assert state_of(partition) == full_scan(partition), "nothing deleted: a full scan finds the same"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_state_from_snapshots_equals_the_replayed_history(steps):
    with tempfile.TemporaryDirectory() as directory:
        run(Path(directory) / "t-0", steps)


def test_a_clean_restart_replays_nothing_and_rolls_leave_a_snapshot_at_each_segment_base(tmp_path, caplog):
    partition = open_partition(tmp_path / "t-0")
    for sequence in range(12):
        partition.append_as_leader(batch(1, 0, sequence, 1, False), leader_epoch=0)
    bases = partition.log.segment_base_offsets
    assert len(bases) > 2 and snapshot_offsets(partition.log.directory) == bases[1:]
    partition.close()
    assert snapshot_offsets(partition.log.directory) == [*bases[1:], 12]

    with caplog.at_level("INFO", logger="cluster.broker.producer_snapshots"):
        reopened = open_partition(tmp_path / "t-0")
    assert "from the snapshot at offset 12 and 0 batch(es)" in caplog.text
    retry = reopened.append_as_leader(batch(1, 0, 7, 1, False), leader_epoch=0)
    assert (retry.base_offset, retry.duplicate) == (7, True)


def test_a_follower_appending_across_several_rolls_snapshots_each_new_segment(tmp_path):
    leader = open_partition(tmp_path / "leader")
    for sequence in range(12):
        leader.append_as_leader(batch(1, 0, sequence, 1, False), leader_epoch=0)
    follower = Partition("t", 0, PartitionLog.open(tmp_path / "follower", SMALL_SEGMENTS), broker_id=1)
    follower.append_as_follower(read_all(leader.log))  # one append, rolling several times
    bases = follower.log.segment_base_offsets
    assert len(bases) > 2 and snapshot_offsets(follower.log.directory) == bases[1:]
    kill_process_files(tmp_path / "follower")
    restarted = Partition("t", 0, PartitionLog.open(tmp_path / "follower", SMALL_SEGMENTS), broker_id=1)
    assert state_of(restarted) == state_of(leader)



def a_closed_partition(directory: Path) -> Partition:
    """Twelve batches of an idempotent producer and an aborted and an open transaction over a few
    segments, closed cleanly: snapshots at each segment base and at the log end, 17."""
    partition = open_partition(directory)
    for sequence in range(12):
        partition.append_as_leader(batch(1, 0, sequence, 1, False), leader_epoch=0)
        if sequence in (3, 8):
            partition.append_as_leader(batch(10, 0, 0 if sequence == 3 else 2, 2, True), leader_epoch=0)
        if sequence == 5:
            partition.append_as_leader(marker_batch(10, 0, False, 0, 1), leader_epoch=0)
    partition.close()
    return partition


DAMAGES = {
    "a flipped bit": lambda data: data[:30] + bytes([data[30] ^ 0x10]) + data[31:],
    "cut short": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "garbage": lambda data: b"not a producer snapshot",
    "another version": lambda data: (1).to_bytes(2, "big") + data[2:],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_snapshot_is_reported_removed_and_the_next_older_one_used(tmp_path, caplog, damage):
    closed = a_closed_partition(tmp_path / "t-0")
    *_, older, newest = snapshot_offsets(tmp_path / "t-0")
    damaged = path_of(tmp_path / "t-0", newest)
    damaged.write_bytes(DAMAGES[damage](damaged.read_bytes()))

    with caplog.at_level("INFO"):
        reopened = open_partition(tmp_path / "t-0")

    assert f"producer snapshot {damaged.name} is unusable" in caplog.text
    assert f"rebuilt from the snapshot at offset {older} and " in caplog.text
    assert not damaged.exists()
    assert state_of(reopened) == state_of(closed) == full_scan(reopened)


def test_with_every_snapshot_damaged_the_whole_log_is_replayed(tmp_path, caplog):
    closed = a_closed_partition(tmp_path / "t-0")
    for offset in snapshot_offsets(tmp_path / "t-0"):
        path_of(tmp_path / "t-0", offset).write_bytes(b"\0" * 7)

    with caplog.at_level("INFO"):
        reopened = open_partition(tmp_path / "t-0")

    assert caplog.text.count("is unusable") == 3
    assert "rebuilt from an empty state and 15 batch(es)" in caplog.text
    assert state_of(reopened) == state_of(closed)


@pytest.mark.parametrize("batch_lost", [True, False])
def test_after_a_crash_a_snapshot_above_the_recovery_point_is_not_trusted(tmp_path, caplog, batch_lost):
    """A snapshot taken at the log end (as a clean shutdown takes it) before a crash that came before the
    flush: the batches it describes may be lost, so it is dropped even when they all survived (Kafka's rule)."""
    directory = tmp_path / "t-0"
    partition = Partition("t", 0, PartitionLog.open(directory, LogConfig()), broker_id=0)
    for sequence in range(3):
        partition.append_as_leader(batch(1, 0, sequence, 1, False), leader_epoch=0)
    partition.close()  # flushed: the recovery point is 3
    partition = Partition("t", 0, PartitionLog.open(directory, LogConfig()), broker_id=0)
    for sequence in range(3, 6):
        partition.append_as_leader(batch(1, 0, sequence, 1, False), leader_epoch=0)
    last_size = len(partition.read(5, 1 << 20, None).read_bytes())
    partition.log.write_producer_snapshot(snapshot_of(6, PartitionState(partition.producers, partition.transactions)))
    kill_process_files(directory)
    if batch_lost:
        segment = directory / "00000000000000000000.log"
        os.truncate(segment, segment.stat().st_size - last_size)

    with caplog.at_level("INFO"):
        reopened = Partition("t", 0, PartitionLog.open(directory, LogConfig()), broker_id=0)

    why = ("the recovered log's segments do not hold the batches around it" if batch_lost
           else "after a crash, it is above the recovery point 3")
    assert f"removing producer snapshot 00000000000000000006.snapshot: {why}" in caplog.text
    assert snapshot_offsets(directory) == [], "the one at 3, taken by the clean shutdown, was replaced by the one at 6"
    assert state_of(reopened) == full_scan(reopened)
    resent = reopened.append_as_leader(batch(1, 0, 5, 1, False), leader_epoch=0)
    assert (resent.base_offset, resent.duplicate) == (5, not batch_lost)
