"""The log checker on constructed histories: offsets against real-time order, reads against appends, unknowns."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.log import check_log
from tests.checkers.histories import checked

TEST = {"name": "log", "workload": "log", "acks": "all"}


class Logs:
    """Harness events for log ops; each call is one event, 1 ms after the one before."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def event(self, process: Any, type: str, f: str, value: Any) -> None:
        self.events.append({"index": len(self.events), "time": (len(self.events) + 1) * 1_000_000,
                            "process": process, "type": type, "f": f, "value": value})

    def invoke_append(self, process: int, partition: int, value: int) -> None:
        self.event(process, "invoke", "append", {"partition": partition, "value": value})

    def complete_append(self, process: int, partition: int, value: int, offset: int | None, type: str = "ok") -> None:
        done = {"partition": partition, "offset": offset, "value": value} if type == "ok" else \
            {"partition": partition, "value": value}
        self.event(process, type, "append", done)

    def append(self, process: int, partition: int, value: int, offset: int | None, type: str = "ok") -> None:
        self.invoke_append(process, partition, value)
        self.complete_append(process, partition, value, offset, type)

    def invoke_read(self, process: int, partition: int) -> None:
        self.event(process, "invoke", "read", {"partition": partition, "fraction": 0.5})

    def complete_read(self, process: int, partition: int, offset: int, value: Any) -> None:
        self.event(process, "ok", "read", {"partition": partition, "offset": offset, "value": value})

    def read(self, process: int, partition: int, offset: int, value: Any) -> None:
        self.invoke_read(process, partition)
        self.complete_read(process, partition, offset, value)


def two_partitions() -> Logs:
    h = Logs()
    h.append(0, 0, 10, 0)
    h.invoke_append(1, 0, 11)
    h.invoke_append(2, 0, 12)
    h.complete_append(2, 0, 12, 1)  # concurrent appends may take offsets in either order
    h.complete_append(1, 0, 11, 2)
    h.append(0, 1, 20, 0)
    h.read(3, 0, 1, 12)
    h.read(3, 1, 0, 20)
    return h


def test_concurrent_appends_and_reads_of_what_they_wrote_are_valid(tmp_path: Path) -> None:
    results = check_log(TEST, two_partitions().events, tmp_path)
    assert results["valid"] is True, results
    assert results["keys"] == {"0": "linearizable", "1": "linearizable"}
    assert (tmp_path / "linearizability.html").is_file()


def test_an_unknown_append_may_fill_a_gap_and_a_failed_one_may_not(tmp_path: Path) -> None:
    h = two_partitions()
    h.append(4, 1, 21, None, type="info")
    h.append(0, 1, 22, 2)
    assert check_log(TEST, h.events, tmp_path)["valid"] is True

    h = two_partitions()
    h.append(4, 1, 21, None, type="fail")
    h.append(0, 1, 22, 2)  # offset 1 holds nothing that can have been appended
    results = check_log(TEST, h.events, tmp_path)
    assert results["valid"] is False
    assert results["keys"] == {"0": "linearizable", "1": "not linearizable"}


def test_offsets_against_real_time_order_are_invalid(tmp_path: Path) -> None:
    h = Logs()
    h.append(0, 0, 10, 1)  # acknowledged at offset 1 before the other was even sent...
    h.append(1, 0, 11, 0)  # ...which then got offset 0
    results = check_log(TEST, h.events, tmp_path)
    assert results["valid"] is False
    assert results["anomalies"]["nonlinearizable"]["examples"][0]["key"] == 0
    assert "not linearizable" in (tmp_path / "linearizability.html").read_text()


def test_a_read_of_another_value_at_an_offset_is_invalid(tmp_path: Path) -> None:
    h = two_partitions()
    h.read(5, 0, 0, 11)
    assert check_log(TEST, h.events, tmp_path)["valid"] is False


def test_a_final_read_that_finds_an_acknowledged_offset_missing_is_invalid(tmp_path: Path) -> None:
    h = two_partitions()
    h.read(5, 0, 3, None)  # nothing at 3 yet: fine
    assert check_log(TEST, h.events, tmp_path)["valid"] is True
    h.read(5, 0, 2, None)  # offset 2 was acknowledged: the log lost its tail
    assert check_log(TEST, h.events, tmp_path)["valid"] is False


def test_a_read_with_an_unknown_outcome_says_nothing(tmp_path: Path) -> None:
    h = two_partitions()
    h.invoke_read(5, 0)
    h.event(5, "info", "read", {"partition": 0, "fraction": 0.5})
    results = checked(TEST, h.events, tmp_path)
    assert results["log"]["valid"] is True
    assert results["log"]["summary"]["operations"] == 6


@st.composite
def log_runs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Appends and reads of up to 4 clients on two in-memory logs, each op's invoke, effect and completion
    interleaved as hypothesis picks; some appends end `info` (appended or not)."""
    h = Logs()
    logs: dict[int, list[int]] = {0: [], 1: []}
    in_flight: dict[int, dict[str, Any]] = {}
    remaining, process, value = draw(st.integers(1, 24)), 0, 0
    while remaining or in_flight:
        slots = sorted(in_flight) + ([None] if remaining and len(in_flight) < 4 else [])
        slot = draw(st.sampled_from(slots))
        if slot is None:
            f, partition = draw(st.sampled_from(["append", "read"])), draw(st.integers(0, 1))
            if f == "append":
                h.invoke_append(process, partition, value)
            else:
                h.invoke_read(process, partition)
            in_flight[process] = {"f": f, "partition": partition, "value": value, "done": False}
            process, value, remaining = process + 1, value + 1, remaining - 1
            continue
        op = in_flight[slot]
        log = logs[op["partition"]]
        if not op["done"]:  # the effect, at one instant inside the interval
            op["done"] = True
            if op["f"] == "append":
                op["type"] = "info" if draw(st.integers(0, 5)) == 0 else "ok"
                if op["type"] == "ok" or draw(st.booleans()):
                    log.append(op["value"])
                    op["offset"] = len(log) - 1
            elif log:
                op["offset"] = draw(st.integers(0, len(log) - 1))
                op["read"] = log[op["offset"]]
            continue
        if op["f"] == "append":
            h.complete_append(slot, op["partition"], op["value"], op.get("offset"), op["type"])
        elif "read" in op:
            h.complete_read(slot, op["partition"], op["offset"], op["read"])
        else:
            h.event(slot, "fail", "read", {"partition": op["partition"], "fraction": 0.5})
        del in_flight[slot]
    return h.events


@settings(max_examples=60)
@given(log_runs())
def test_concurrent_runs_of_a_real_log_are_linearizable(events: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as out:
        results = check_log(TEST, events, Path(out))
    assert results["valid"] == (True if results["summary"]["keys"] else "unknown")  # only failed reads: nothing


@settings(max_examples=60)
@given(log_runs(), st.data())
def test_a_read_of_a_value_never_appended_makes_them_invalid(events: list[dict[str, Any]], data: st.DataObject) -> None:
    reads = [e for e in events if e["f"] == "read" and e["type"] == "ok"]
    if not reads:
        return
    read = data.draw(st.sampled_from(reads))
    read["value"] = {**read["value"], "value": -1}
    with tempfile.TemporaryDirectory() as out:
        assert check_log(TEST, events, Path(out))["valid"] is False
