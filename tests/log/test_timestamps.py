"""Record time in the partition log: LogAppendTime stamping, the time index and lookups by timestamp,
against a model, with a clock that jumps back and forth and producers whose timestamps go back.

The model is Kafka's contract: offset_for_timestamp(t) is the first offset at or above the log start
whose record timestamp is at or after t, in offset order, whatever order the timestamps came in;
each .timeindex entry (T, O) says the segment's largest timestamp first reached T in the batch
ending at O, so its entries only ever grow; a LogAppendTime log stamps every batch with its clock.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cluster.broker.log import LogConfig, PartitionLog
from cluster.broker.log.config import TimestampType
from cluster.broker.protocol.record_batch import BatchHeader
from cluster.broker.protocol.records import Record, build_batch, decode_records
from tests.log.batches import kill_process_files, read_all, split_batches

_TIME_ENTRY = struct.Struct(">qi")
NOW = 1_700_000_000_000


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def time_index(path: Path) -> list[tuple[int, int]]:
    """(timestamp, absolute offset) entries of a .timeindex file (none: no file, as an empty segment has)."""
    base, data = int(path.name.split(".")[0]), path.read_bytes() if path.exists() else b""
    return [(timestamp, base + relative) for timestamp, relative in _TIME_ENTRY.iter_unpack(data)]


def test_log_append_time_stamps_each_append_with_the_clock_even_when_it_went_back(tmp_path) -> None:
    clock = Clock()
    log = PartitionLog.open(tmp_path, LogConfig(timestamp_type=TimestampType.LOG_APPEND_TIME), clock)
    batch = build_batch([Record(0, 5, value=b"a"), Record(1, 6, value=b"b")])

    first = log.append(batch, leader_epoch=1)
    clock.now -= 3_600_000
    second = log.append(bytes(build_batch([Record(0, 7, value=b"c")])), leader_epoch=1)

    assert (first.max_timestamp, first.log_append_time) == (NOW, NOW)
    assert (second.max_timestamp, second.log_append_time) == (NOW - 3_600_000, NOW - 3_600_000)
    stored = split_batches(read_all(log))
    assert [BatchHeader.parse(b).uses_log_append_time for b in stored] == [True, True]
    assert [(r.offset, r.timestamp) for b in stored for r in decode_records(b)] == [
        (0, NOW), (1, NOW), (2, NOW - 3_600_000)
    ]
    assert log.offset_for_timestamp(NOW - 3_600_000) == 0, "the first offset at or after, not the earliest time"
    assert log.offset_for_timestamp(NOW + 1) is None


def test_create_time_keeps_the_producers_timestamps_and_reports_no_append_time(tmp_path) -> None:
    log = PartitionLog.open(tmp_path, LogConfig(), Clock())
    info = log.append(build_batch([Record(0, 42, value=b"a")]), leader_epoch=0)
    assert (info.max_timestamp, info.log_append_time) == (42, -1)
    assert not BatchHeader.parse(read_all(log)).uses_log_append_time


def test_a_follower_stores_the_leaders_log_append_time_batches_unchanged(tmp_path) -> None:
    clock = Clock()
    config = LogConfig(timestamp_type=TimestampType.LOG_APPEND_TIME)
    leader = PartitionLog.open(tmp_path / "leader", config, clock)
    leader.append(build_batch([Record(0, 5, value=b"a")]), leader_epoch=2)
    clock.now += 999_999
    follower = PartitionLog.open(tmp_path / "follower", config, clock)

    follower.append_as_follower(read_all(leader))

    assert read_all(follower) == read_all(leader)
    assert follower.offset_for_timestamp(NOW) == 0 and follower.offset_for_timestamp(NOW + 1) is None


def test_targets_at_or_below_no_timestamp_pass_over_empty_segments(tmp_path) -> None:
    """An empty segment's max timestamp is NO_TIMESTAMP (-1): a lookup for -1 or below once read a
    batch header past the end of its empty file (a struct.error out of a ListOffsets)."""
    log = PartitionLog.open(tmp_path, LogConfig(), Clock())
    assert [log.offset_for_timestamp(t) for t in (-(2**63), -3, -1)] == [None, None, None], "a new, empty log"

    log.append(build_batch([Record(0, 5, value=b"a")]), leader_epoch=0)
    log.roll()
    assert log.offset_for_timestamp(-3) == 0, "the first record, not the empty active segment"
    log.advance_log_start(1)
    assert [log.offset_for_timestamp(t) for t in (-3, -1, 5)] == [None, None, None], "nothing at or above the start"


class TimestampModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="logquake-times-"))
        self.clock = Clock()
        self.timestamps: dict[int, int] = {}
        """Every record the log holds or held in a segment still on disk: offset -> timestamp."""
        self.batch_ends: dict[int, int] = {}
        """Offset -> the last offset of its batch."""
        self.start = 0
        self.end = 0

    @initialize(
        timestamp_type=st.sampled_from(list(TimestampType)),
        segment_bytes=st.sampled_from([250, 600, 4000]),
        index_interval_bytes=st.sampled_from([0, 100, 4096]),
    )
    def open_log(self, timestamp_type: TimestampType, segment_bytes: int, index_interval_bytes: int) -> None:
        self.config = LogConfig(
            timestamp_type=timestamp_type, segment_bytes=segment_bytes, index_interval_bytes=index_interval_bytes,
            retention_ms=3_600_000, segment_ms=10 * 3_600_000,
        )
        self.log = PartitionLog.open(self.directory, self.config, self.clock)

    def teardown(self) -> None:
        if hasattr(self, "log"):
            kill_process_files(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def appends_log_time(self) -> bool:
        return self.config.timestamp_type is TimestampType.LOG_APPEND_TIME

    # --- operations ----------------------------------------------------------------------------

    @rule(created=st.lists(st.integers(-7_200_000, 7_200_000), min_size=1, max_size=4))
    def append(self, created: list[int]) -> None:
        """A producer's batch whose CreateTimes lie within two hours either side of the clock, in any order."""
        batch = build_batch([Record(i, self.clock.now + delta, value=b"v" * 10) for i, delta in enumerate(created)])
        info = self.log.append(batch, leader_epoch=0)
        assert (info.first_offset, info.last_offset) == (self.end, self.end + len(created) - 1)
        stamped = [self.clock.now] * len(created) if self.appends_log_time else [self.clock.now + d for d in created]
        assert info.max_timestamp == max(stamped)
        assert info.log_append_time == (self.clock.now if self.appends_log_time else -1)
        for offset, timestamp in enumerate(stamped, start=self.end):
            self.timestamps[offset] = timestamp
            self.batch_ends[offset] = info.last_offset
        self.end = info.last_offset + 1

    @rule(ms=st.sampled_from([-86_400_000, -3_600_000, -1, 1, 3_600_000, 86_400_000]))
    def clock_steps(self, ms: int) -> None:
        self.clock.now += ms

    @rule()
    def roll(self) -> None:
        self.log.roll()

    @rule()
    def apply_retention(self) -> None:
        deleted = self.log.apply_retention()
        if deleted:
            self.start = max(self.start, deleted[-1].next_offset)
        assert self.log.log_start_offset == self.start

    @rule(data=st.data())
    def advance_log_start(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(self.start, self.end), label="offset")
        self.log.advance_log_start(offset)
        self.start = offset

    @rule(data=st.data())
    @precondition(lambda self: self.end > self.start)
    def truncate_to(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(self.start + 1, self.end), label="offset")
        self.log.truncate_to(offset)
        self.end = self.log.log_end_offset
        assert self.end <= offset and self.log.log_start_offset == min(self.start, self.end)
        self.start = self.log.log_start_offset
        for gone in [o for o in self.timestamps if o >= self.end]:
            del self.timestamps[gone], self.batch_ends[gone]

    @rule(crash=st.booleans())
    def reopen(self, crash: bool) -> None:
        """A clean close checks the time index files it leaves; a crash leaves them to be rebuilt."""
        if crash:
            kill_process_files(self.directory)
        else:
            self.log.close()
            self._check_time_index_files()
        self.log = PartitionLog.open(self.directory, self.config, self.clock)

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def lookups_find_the_first_offset_at_or_after(self) -> None:
        if not hasattr(self, "log"):
            return
        held = {offset: t for offset, t in self.timestamps.items() if self.start <= offset < self.end}
        targets = {t + d for t in held.values() for d in (-1, 0, 1)} | {self.clock.now, -(2**63), -3, -1}
        for target in sorted(targets):
            expected = min((offset for offset, t in held.items() if t >= target), default=None)
            assert self.log.offset_for_timestamp(target) == expected, f"target {target}"

    def _check_time_index_files(self) -> None:
        bases = sorted(int(path.name[:20]) for path in self.directory.glob("*.log"))
        for base, next_base in zip(bases, [*bases[1:], self.end]):
            entries = time_index(self.directory / f"{base:020d}.timeindex")
            held = {o: t for o, t in self.timestamps.items() if base <= o < next_base}
            assert [t for t, _ in entries] == sorted({t for t, _ in entries}), "timestamps only grow"
            assert [o for _, o in entries] == sorted(o for _, o in entries), "offsets never go back"
            for timestamp, offset in entries:
                reached = {o: t for o, t in held.items() if o <= self.batch_ends[offset]}
                assert timestamp == max(reached.values()), "the largest timestamp seen up to that batch"
                first = min(o for o, t in held.items() if t == timestamp)
                assert offset == self.batch_ends[first], "the batch that first reached it"
            if held:
                assert entries and entries[-1][0] == max(held.values()), "a closed segment's largest timestamp"


TimestampModel.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_timestamps_match_model = TimestampModel.TestCase
