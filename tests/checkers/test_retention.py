"""Deleted by retention is not lost: the queue checker against the log starts that final reads observed.

Records below a partition's log start were deleted by retention: an acknowledged send there that
nobody read is neither a lost write nor unseen, and a consumer's step over such offsets only is no
skip. At or above the log start, everything stays what it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.queue import check_queue
from harness.history import HistoryError
from logquake.report import render_report
from tests.checkers.histories import TEST, History
from tests.checkers.test_queue_properties import PARTITIONS, Simulation, mentions


STEPS = 120
"""Enough for consumers to fall behind a log start that moves, and so to skip deleted records now and then."""


def found(result: dict[str, Any]) -> dict[str, int]:
    return {name: a["count"] for name, a in result["anomalies"].items() if a["count"]}


@dataclass
class RetainingSimulation(Simulation):
    """The correct queue of the property tests, whose partitions retention cuts from the front now and then."""

    starts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PARTITIONS, 0))

    def step(self) -> None:
        if self.draw(st.integers(0, 5)):
            super().step()
        else:
            self.retain(self.draw(st.sampled_from(PARTITIONS)))

    def retain(self, partition: int) -> None:
        """The log start moves forward, up to the log's end (everything deleted)."""
        self.starts[partition] = self.draw(st.integers(self.starts[partition], len(self.logs[partition])))

    def apply(self, process: int, op: Any) -> None:
        """A consumer below the log start gets OFFSET_OUT_OF_RANGE and goes on from the log start (earliest)."""
        if op.f == "poll":
            position = self.positions.setdefault(process, dict.fromkeys(PARTITIONS, 0))
            for partition in PARTITIONS:
                position[partition] = max(position[partition], self.starts[partition])
        super().apply(process, op)

    def extend(self, partition: int, count: int) -> None:
        """Acknowledged sends by fresh processes, so that the partition has records at and above its log start."""
        for _ in range(count):
            value, log = self.fresh_value(), self.logs[partition]
            log.append(value)
            self.history.send(self.fresh_process(), partition, value, len(log) - 1)

    def final_reads(self, retaining: bool = True) -> None:
        """Readers record the log starts (retention may move on in between; the last record succeeds), then
        each assigns every partition and polls: once with nothing yet, then each partition from its log start to
        its end (which may be nothing: retention may have deleted it all)."""
        readers = []
        for number in range(count := self.draw(st.integers(1, 3))):
            reader = self.fresh_process()
            outcome = "ok" if number == count - 1 else self.draw(st.sampled_from(["ok", "fail", "info"]))
            starts = {str(p): start for p, start in self.starts.items()}
            self.history.op(reader, "log-starts", list(PARTITIONS), outcome, starts)
            readers.append(self.fresh_process() if outcome == "info" else reader)
            if retaining and number < count - 1 and self.draw(st.booleans()):
                self.retain(self.draw(st.sampled_from(PARTITIONS)))
        for reader in readers:
            self.history.assign(reader, list(PARTITIONS))
            self.history.poll(reader, {})
            for p in PARTITIONS:
                log, start = self.logs[p], self.starts[p]
                while start < len(log):
                    end = min(len(log), start + self.draw(st.integers(1, 5)))
                    self.history.poll(reader, {p: [(o, log[o]) for o in range(start, end)]})
                    start = end


def retaining(draw: Any) -> RetainingSimulation:
    sim = RetainingSimulation(draw)
    sim.seed()
    for _ in range(draw(st.integers(0, STEPS))):
        sim.step()
    sim.end_main_phase()
    return sim


@settings(max_examples=100)
@given(st.data())
def test_a_correct_queue_that_retention_cut_shows_no_anomaly(data: st.DataObject) -> None:
    sim = retaining(data.draw)
    sim.final_reads()
    result = check_queue(TEST, sim.history.events)
    assert found(result) == {}
    assert result["valid"] is True
    assert result["final_reads"]["complete"] is True
    retention = result["retention"]
    assert retention["log_starts"] == {str(p): start for p, start in sim.starts.items()}
    assert retention["deleted"] + result["summary"]["acknowledged_read"] == result["summary"]["sends"]["ok"]
    assert all(example["offset"] < example["log_start"] for example in retention["examples"])
    assert json.loads(json.dumps(result)) == result


@settings(max_examples=100)
@given(st.data(), st.sampled_from(["lost-write", "poll-skip", "int-poll-skip"]))
def test_loss_and_skips_at_or_above_the_log_start_are_still_found(data: st.DataObject, anomaly: str) -> None:
    sim = retaining(data.draw)
    sim.extend(0, 3)
    h, start, log = sim.history, sim.starts[0], sim.logs[0]
    if anomaly == "lost-write":
        needle = sim.fresh_value()
        h.send(sim.fresh_process(), 0, needle, start)
    else:
        process = sim.fresh_process()
        h.assign(process, [0])
        reads = [[(start, log[start])], [(start + 2, log[start + 2])]]
        polls = reads if anomaly == "poll-skip" else [reads[0] + reads[1]]
        needle = [h.poll(process, {0: records}) for records in polls][-1]
    sim.final_reads(retaining=False)
    result = check_queue(TEST, sim.history.events)
    assert result["anomalies"][anomaly]["forbidden"] >= 1
    assert any(mentions(example, needle) for example in result["anomalies"][anomaly]["examples"])
    assert result["valid"] is False


@given(st.integers(1, 12), st.data())
def test_unread_sends_below_the_log_start_are_deleted_and_above_it_lost_or_unseen(n: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, n))
    unread = data.draw(st.sets(st.integers(start, n - 1))) if start < n else set()
    h = History()
    for offset in range(n):
        h.send(0, 0, 100 + offset, offset)
    h.op(9, "log-starts", [0], "ok", {"0": start})
    h.assign(9, [0])
    read = [offset for offset in range(start, n) if offset not in unread]
    h.poll(9, {0: [(offset, 100 + offset) for offset in read]})
    result = check_queue(TEST, h.events)
    highest = max(read, default=-1)
    assert result["retention"]["deleted"] == start
    assert {e["offset"] for e in result["retention"]["examples"]} == set(range(min(start, 8)))
    assert result["anomalies"]["lost-write"]["count"] == sum(offset < highest for offset in unread)
    assert result["anomalies"]["unseen"]["count"] == sum(offset > highest for offset in unread)
    assert result["valid"] is (not unread)


@given(st.integers(3, 12), st.data(), st.booleans())
def test_a_step_over_offsets_below_the_log_start_only_is_no_skip(n: int, data: st.DataObject, inside: bool) -> None:
    """The consumer read `before`, then `after` (in the next poll, or `inside` one poll) while retention deleted
    what lay in between; final reads then see the log start."""
    before = data.draw(st.integers(0, n - 3))
    after = data.draw(st.integers(before + 2, n - 1))
    start = data.draw(st.integers(0, n - 1))
    h = History()
    for offset in range(n):
        h.send(0, 0, 100 + offset, offset)
    h.assign(1, [0])
    reads = [[(before, 100 + before)], [(after, 100 + after)]]
    for records in ([reads[0] + reads[1]] if inside else reads):
        h.poll(1, {0: records})
    h.op(9, "log-starts", [0], "ok", {"0": start})
    h.assign(9, [0])
    h.poll(9, {0: [(offset, 100 + offset) for offset in range(start, n)]})
    result = check_queue(TEST, h.events)
    skip = ("int-" if inside else "") + "poll-skip"
    over_existing = after - 1 >= start
    assert found(result) == ({skip: 1} if over_existing else {})
    assert result["retention"]["skips"] == (not over_existing)
    assert result["valid"] is (not over_existing)


def test_the_highest_log_start_of_several_final_readers_counts() -> None:
    h = History()
    for offset in range(6):
        h.send(0, 0, 100 + offset, offset)
    h.op(7, "log-starts", [0], "ok", {"0": 4})
    h.op(8, "log-starts", [0], "ok", {"0": 2})
    h.op(9, "log-starts", [0], "fail")
    h.op(10, "log-starts", [0], "info")
    h.assign(11, [0])
    h.poll(11, {0: [(4, 104), (5, 105)]})
    result = check_queue(TEST, h.events)
    assert result["valid"] is True
    assert result["retention"]["log_starts"] == {"0": 4}
    assert result["retention"]["deleted"] == 4
    assert result["reasons"] == ["4 acknowledged send(s) never read lay below their partition's log start: deleted "
                                 "by retention, not lost"]


@pytest.mark.parametrize("value", [[0], {"0": "3"}, {"0": -1}, {"zero": 3}, {"0": True}, None])
def test_a_malformed_log_starts_op_is_a_history_error(value: Any) -> None:
    h = History()
    h.op(9, "log-starts", [0], "ok", value)
    with pytest.raises(HistoryError, match="op 1"):
        check_queue(TEST, h.events)


def test_the_report_shows_what_retention_deleted(tmp_path: Path) -> None:
    h = History()
    for offset in range(3):
        h.send(0, 0, 100 + offset, offset)
    h.op(9, "log-starts", [0], "ok", {"0": 2})
    h.assign(9, [0])
    h.poll(9, {0: [(2, 102)]})
    page = render_report(tmp_path, TEST, {"valid": True, "queue": check_queue(TEST, h.events)})
    assert "<h2>Deleted by retention</h2>" in page
    assert "Log starts seen by the final reads: partition 0 at 2. 2 acknowledged send(s) never read" in page
    assert "value 100" in page and "log start 2" in page
    assert page.index("<h2>Anomalies</h2>") < page.index("<h2>Deleted by retention</h2>")
    quiet = History()
    quiet.send(0, 0, 100, 0)
    quiet.op(9, "log-starts", [0], "ok", {"0": 0})
    assert "Deleted by retention" not in render_report(tmp_path, TEST, {"valid": True,
                                                                          "queue": check_queue(TEST, quiet.events)})
