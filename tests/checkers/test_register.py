"""The register checker on constructed histories: per-key verdicts, stale reads, the visualization, bad input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.register import check_register
from logquake.report import write_report
from tests.checkers.histories import checked

TEST = {"name": "register", "workload": "register", "register_sync_reads": True}
NEVER_WRITTEN = 99


class Registers:
    """Harness events for register ops; each call is one event, 1 ms after the one before."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def event(self, process: Any, type: str, f: str, value: Any) -> None:
        self.events.append({"index": len(self.events), "time": (len(self.events) + 1) * 1_000_000,
                            "process": process, "type": type, "f": f, "value": value})

    def invoke(self, process: int, f: str, key: int, argument: Any = None) -> None:
        self.event(process, "invoke", f, {"key": key, "value": argument})

    def complete(self, process: int, type: str, f: str, key: int, value: Any = None) -> None:
        self.event(process, type, f, {"key": key, "value": value})

    def op(self, process: int, f: str, key: int, argument: Any = None, type: str = "ok", result: Any = None) -> None:
        """A whole op, overlapping nothing; a read's result is the value read, others repeat their argument."""
        self.invoke(process, f, key, argument)
        self.complete(process, type, f, key, result if f == "read" else argument)


def stale_read() -> Registers:
    """Key 0: a write of 2 completes, then another process reads the 1 written before it."""
    h = Registers()
    h.op(0, "write", 0, 1)
    h.op(0, "write", 0, 2)
    h.op(1, "read", 0, result=1)
    h.op(1, "write", 1, 4)
    h.op(2, "read", 1, result=4)
    return h


def test_overlapping_ops_and_unknown_outcomes_are_linearizable(tmp_path: Path) -> None:
    h = Registers()
    h.invoke(0, "write", 0, 1)
    h.invoke(1, "read", 0)
    h.complete(1, "ok", "read", 0, 1)  # read the write still in flight
    h.complete(0, "ok", "write", 0, 1)
    h.invoke(2, "write", 0, 3)
    h.complete(2, "info", "write", 0, 3)  # may have happened: a later read of 3 is fine
    h.op(3, "cas", 0, [1, 2], "fail")  # did not happen: it constrains nothing
    h.op(3, "read", 0, result=3)
    h.op(4, "cas", 0, [3, 4])
    h.op(4, "read", 0, result=4)
    h.op(5, "read", 7, result=None)  # a key never written reads as empty
    results = check_register(TEST, h.events, tmp_path)
    assert results["valid"] is True, results
    assert results["keys"] == {"0": "linearizable", "7": "linearizable"}
    assert results["summary"] == {"keys": 2, "operations": 7, "linearizable": 2}  # the failed cas is left out
    assert results["anomalies"]["nonlinearizable"]["count"] == 0
    assert "linearizable" in (tmp_path / results["visualization"]).read_text()


def test_a_stale_read_after_sync_is_not_linearizable(tmp_path: Path) -> None:
    results = check_register(TEST, stale_read().events, tmp_path)
    assert results["valid"] is False
    assert results["keys"] == {"0": "not linearizable", "1": "linearizable"}
    nonlinearizable = results["anomalies"]["nonlinearizable"]
    assert (nonlinearizable["forbidden"], nonlinearizable["examples"][0]["key"]) == (1, 0)
    assert "not linearizable" in (tmp_path / "linearizability.html").read_text()


def test_without_sync_a_stale_read_is_allowed_but_a_broken_cas_is_not(tmp_path: Path) -> None:
    plain = {**TEST, "register_sync_reads": False}
    results = check_register(plain, stale_read().events, tmp_path)
    assert results["valid"] is True
    assert results["anomalies"]["stale-read"]["allowed"] == 1
    assert results["keys"]["0"] == "stale reads (allowed without sync)"

    h = stale_read()
    h.op(3, "cas", 1, [5, 6])  # key 1 held 4, never 5: this cas cannot have succeeded
    results = check_register(plain, h.events, tmp_path)
    assert results["valid"] is False
    assert results["keys"]["1"] == "not linearizable"
    assert results["anomalies"]["nonlinearizable"]["examples"][0]["key"] == 1


def test_without_sync_a_read_older_than_the_session_s_own_writes_is_not_allowed(tmp_path: Path) -> None:
    h = Registers()
    h.op(0, "write", 0, 1)
    h.op(1, "write", 0, 2)
    h.op(1, "write", 0, 3)
    h.op(1, "read", 0, result=1)  # its own server applied the writes of 2 and 3 before acknowledging them
    results = check_register({**TEST, "register_sync_reads": False}, h.events, tmp_path)
    assert results["valid"] is False
    assert results["anomalies"]["nonlinearizable"]["count"] == 1


def test_run_checks_lists_and_the_report_links_the_visualization(tmp_path: Path) -> None:
    results = checked(TEST, stale_read().events, tmp_path)
    assert results["valid"] is False and "linearizability.html" in results["files"]
    (tmp_path / "test.json").write_text(json.dumps(TEST))
    (tmp_path / "results.json").write_text(json.dumps(results))
    page = write_report(tmp_path).read_text()
    assert "href='linearizability.html'" in page
    assert "1 nonlinearizable" in page


def test_ops_without_a_key_are_a_clear_checker_error(tmp_path: Path) -> None:
    h = Registers()
    h.event(0, "invoke", "write", 3)
    h.event(0, "ok", "write", 3)
    results = checked(TEST, h.events, tmp_path)
    assert results["valid"] == "unknown"
    assert results["errors"]["register"] == "HistoryError: op 1: a write of this workload carries {key, value}, not 3"


@st.composite
def register_runs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Ops of up to 4 clients on two in-memory registers; hypothesis interleaves each op's invoke, its effect
    and its completion, so intervals really overlap. Some writes end `info` (applied or lost)."""
    h = Registers()
    registers: dict[int, int] = {}
    in_flight: dict[int, dict[str, Any]] = {}
    remaining = draw(st.integers(1, 24))
    process = 0
    while remaining or in_flight:
        slots = sorted(in_flight) + ([None] if remaining and len(in_flight) < 4 else [])
        slot = draw(st.sampled_from(slots))
        if slot is None:
            f, key = draw(st.sampled_from(["read", "write", "cas"])), draw(st.integers(0, 1))
            argument = {"read": None, "write": draw(st.integers(0, 2)),
                        "cas": [draw(st.integers(0, 2)), draw(st.integers(0, 2))]}[f]
            h.invoke(process, f, key, argument)
            in_flight[process] = {"f": f, "key": key, "argument": argument, "type": None}
            process, remaining = process + 1, remaining - 1
            continue
        op = in_flight[slot]
        if op["type"] is None:  # the effect, at one instant inside the interval
            op["type"], op["result"] = _apply(registers, op, lost=draw(st.integers(0, 9)) == 0)
            if op["f"] != "read" and draw(st.integers(0, 5)) == 0:
                op["type"] = "info"
            continue
        h.complete(slot, op["type"], op["f"], op["key"], op["result"])
        del in_flight[slot]
    return h.events


def _apply(registers: dict[int, int], op: dict[str, Any], lost: bool) -> tuple[str, Any]:
    key, argument = op["key"], op["argument"]
    if op["f"] == "read":
        return "ok", registers.get(key)
    if lost:
        return "info", argument
    if op["f"] == "write" or registers.get(key) == argument[0]:
        registers[key] = argument if op["f"] == "write" else argument[1]
        return "ok", argument
    return "fail", argument


@settings(max_examples=60)
@given(register_runs())
def test_concurrent_runs_of_a_real_register_are_linearizable(events: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as out:
        results = check_register(TEST, events, Path(out))
    assert results["valid"] == (True if results["summary"]["keys"] else "unknown")  # only failed ops: nothing to check


@settings(max_examples=60)
@given(register_runs(), st.data())
def test_a_read_of_a_value_never_written_makes_them_invalid(events: list[dict[str, Any]], data: st.DataObject) -> None:
    reads = [e for e in events if e["f"] == "read" and e["type"] == "ok"]
    if not reads:
        return
    read = data.draw(st.sampled_from(reads))
    read["value"] = {**read["value"], "value": NEVER_WRITTEN}
    with tempfile.TemporaryDirectory() as out:
        results = check_register(TEST, events, Path(out))
        assert results["valid"] is False
        assert "not linearizable" in (Path(out) / "linearizability.html").read_text()
