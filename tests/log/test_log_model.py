"""The partition log against a list of batches, through every operation and through crashes.

The model is what a reader must see: the stamped batches from the log start
to the log end and the leader-epoch entries. Crashes abandon the log the way
kill -9 does and may then tear or bit-flip the last batch on disk; the
reopened log must equal the model minus that batch.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cluster.broker.log import LogConfig, PartitionLog
from tests.log.batches import kill_process_files, make_batch, read_all, segment_files, split_batches, stamped

_EPOCH_FIELD = range(12, 16)
"""partitionLeaderEpoch lies outside the CRC by design (leaders stamp it), so no log can detect a flip there."""


@dataclass
class ModelBatch:
    base_offset: int
    last_offset: int
    data: bytes


class LogModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="logquake-model-"))
        self.now = 1_000_000
        self.batches: list[ModelBatch] = []
        self.start = 0
        self.epochs: list[tuple[int, int]] = []
        self.epoch = 0

    @initialize(
        segment_bytes=st.sampled_from([200, 700, 3000]),
        index_interval_bytes=st.sampled_from([0, 150, 4096]),
        retention_bytes=st.sampled_from([-1, 1500]),
    )
    def open_log(self, segment_bytes: int, index_interval_bytes: int, retention_bytes: int) -> None:
        self.config = LogConfig(
            segment_bytes=segment_bytes,
            index_interval_bytes=index_interval_bytes,
            retention_ms=60_000,
            retention_bytes=retention_bytes,
            segment_ms=30_000,
        )
        self.log = PartitionLog.open(self.directory, self.config, clock=lambda: self.now)

    @property
    def end(self) -> int:
        return self.batches[-1].last_offset + 1 if self.batches else self.start

    def teardown(self) -> None:
        if hasattr(self, "log"):
            kill_process_files(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- operations ----------------------------------------------------------------------------

    @rule(records=st.integers(1, 5), value_size=st.integers(0, 120), new_epoch=st.booleans(), behind_ms=st.integers(0, 5))
    def append(self, records: int, value_size: int, new_epoch: bool, behind_ms: int) -> None:
        if new_epoch:
            self.epoch += 1
        batch = make_batch(records, self.now - behind_ms, value_size, fill=len(self.batches) % 256)
        info = self.log.append(bytes(batch), self.epoch)
        assert (info.first_offset, info.last_offset) == (self.end, self.end + records - 1)
        if not self.epochs or self.epochs[-1][0] != self.epoch:
            self.epochs.append((self.epoch, self.end))
        self.batches.append(ModelBatch(self.end, self.end + records - 1, stamped(batch, self.end, self.epoch)))

    @rule(ms=st.integers(1, 40_000))
    def time_passes(self, ms: int) -> None:
        self.now += ms

    @rule()
    def roll(self) -> None:
        self.log.roll()

    @rule()
    def flush(self) -> None:
        self.log.flush()

    @rule(data=st.data())
    def apply_retention(self, data: st.DataObject) -> None:
        """Whole segments below the high watermark; the active one too once breached (the log then starts at its end)."""
        high_watermark = data.draw(st.none() | st.integers(self.start, self.end), label="high watermark")
        active_base = self.log.segment_base_offsets[-1]
        deleted = self.log.apply_retention(high_watermark)
        if deleted:
            assert deleted[0].base_offset <= self.start <= deleted[0].next_offset
            assert all(a.next_offset == b.base_offset for a, b in zip(deleted, deleted[1:]))
            assert deleted[-1].next_offset <= (self.end if high_watermark is None else high_watermark)
            self._drop_before(max(self.start, deleted[-1].next_offset))
        if self.log.segment_base_offsets[-1] != active_base:
            assert self.log.segment_base_offsets == [self.end] and self.start == self.end, "the active segment went last"

    @rule(data=st.data())
    def advance_log_start(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(self.start - 1, self.end + 2), label="offset")
        self.log.advance_log_start(offset)
        if offset > self.start:
            self._drop_before(min(offset, self.end))

    @rule(data=st.data())
    @precondition(lambda self: self.batches)
    def truncate_to(self, data: st.DataObject) -> None:
        offset = data.draw(st.integers(self.start, self.end + 2), label="offset")
        self.log.truncate_to(offset)
        if offset <= self.start:
            self._restart_at(offset)
            return
        dropped = [batch for batch in self.batches if batch.last_offset >= offset]
        self.batches = [batch for batch in self.batches if batch.last_offset < offset]
        if dropped and dropped[0].base_offset < self.start:
            self.start = dropped[0].base_offset  # the batch holding the start went: the start moves back to the end
        self.epochs = [(epoch, start) for epoch, start in self.epochs if start < self.end]

    @rule(ahead=st.integers(0, 3))
    def truncate_fully_and_start_at(self, ahead: int) -> None:
        self.log.truncate_fully_and_start_at(self.end + ahead)
        self._restart_at(self.end + ahead)

    @rule()
    def close_and_reopen(self) -> None:
        self.log.close()
        self.log = PartitionLog.open(self.directory, self.config, clock=lambda: self.now)

    @rule(damage=st.sampled_from(["none", "cut", "flip"]), data=st.data())
    def crash_and_reopen(self, damage: str, data: st.DataObject) -> None:
        kill_process_files(self.directory)
        del self.log
        active = segment_files(self.directory)[-1]
        if damage != "none" and active.stat().st_size and self.batches:
            last = self.batches[-1].data
            position = active.stat().st_size - len(last)
            if damage == "cut":
                keep = data.draw(st.integers(1, len(last) - 1), label="bytes of the last batch kept")
                with open(active, "r+b") as file:
                    file.truncate(position + keep)
            else:
                at = data.draw(st.integers(0, len(last) - 1).filter(lambda i: i not in _EPOCH_FIELD), label="byte")
                bit = data.draw(st.integers(0, 7), label="bit")
                with open(active, "r+b") as file:
                    file.seek(position + at)
                    file.write(bytes([last[at] ^ (1 << bit)]))
            dropped = self.batches.pop()
            self.epochs = [(epoch, start) for epoch, start in self.epochs if start < dropped.base_offset]
        self.log = PartitionLog.open(self.directory, self.config, clock=lambda: self.now)

    @rule(data=st.data(), max_bytes=st.integers(1, 900))
    @precondition(lambda self: self.batches)
    def read(self, data: st.DataObject, max_bytes: int) -> None:
        offset = data.draw(st.integers(self.start, self.end - 1), label="offset")
        upper = data.draw(st.none() | st.integers(offset, self.end), label="upper bound")
        region = self.log.read(offset, max_bytes, upper)
        got = split_batches(region.read_bytes())
        first = next(i for i, batch in enumerate(self.batches) if batch.last_offset >= offset)
        eligible = [b for b in self.batches[first:] if upper is None or b.last_offset < upper]
        assert [b.data for b in self.batches[first : first + len(got)]] == got
        if not eligible or eligible[0] is not self.batches[first]:
            assert got == []
            return
        assert len(got) >= 1 and (len(got) == 1 or sum(map(len, got)) <= max_bytes)
        assert region.next_offset == self.batches[first + len(got) - 1].last_offset + 1

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "log"):
            return
        assert (self.log.log_start_offset, self.log.log_end_offset) == (self.start, self.end)
        assert read_all(self.log, max_bytes=500) == b"".join(batch.data for batch in self.batches)
        assert self.log.epoch_cache.entries == self.epochs
        assert self.log.corruption is None

    # --- model helpers -------------------------------------------------------------------------

    def _drop_before(self, start: int) -> None:
        self.batches = [batch for batch in self.batches if batch.last_offset >= start]
        self.start = start
        kept = [(epoch, begin) for epoch, begin in self.epochs if begin > start]
        covering = [(epoch, begin) for epoch, begin in self.epochs if begin <= start]
        self.epochs = ([(covering[-1][0], start)] if covering and self.batches else []) + kept

    def _restart_at(self, offset: int) -> None:
        self.batches, self.start, self.epochs = [], offset, []


LogModel.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
test_log_matches_model = LogModel.TestCase
