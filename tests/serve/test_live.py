"""The live view's tail of a history being written: whole lines only, a torn end kept for later, faults tracked."""

from __future__ import annotations

import json
from pathlib import Path

from logquake.serve.live import HistoryTail

OPS = [
    {"index": 0, "time": 1_000_000_000, "process": 0, "type": "invoke", "f": "send", "value": 1},
    {"index": 1, "time": 1_500_000_000, "process": "nemesis", "type": "invoke", "f": "start-pause", "value": None},
    {"index": 2, "time": 1_600_000_000, "process": "nemesis", "type": "ok", "f": "start-pause", "value": {}},
    {"index": 3, "time": 2_000_000_000, "process": 0, "type": "ok", "f": "send", "value": 1},
    {"index": 4, "time": 2_500_000_000, "process": 1, "type": "info", "f": "poll", "value": None},
    {"index": 5, "time": 3_000_000_000, "process": "nemesis", "type": "ok", "f": "stop-pause", "value": {}},
]


def test_a_history_read_in_torn_pieces_counts_each_op_once(tmp_path: Path) -> None:
    text = "".join(json.dumps(op) + "\n" for op in OPS).encode()
    history = tmp_path / "history.jsonl"
    tail = HistoryTail(history, time_limit=10)
    assert not tail.advance()
    seen = []
    for cut in range(0, len(text) + 1, 37):
        history.write_bytes(text[:cut])
        tail.advance()
        seen.append((tail.progress()["ok"], tail.progress()["faults"]))
    history.write_bytes(text)
    tail.advance()
    assert tail.ops == len(OPS)
    assert tail.progress() == {"line": "  3.0s of 10s  workload  ok 1  fail 0  info 1  faults: none", "ok": 1,
                               "fail": 0, "info": 1, "faults": [], "time_s": 3.0, "phase": "workload"}
    assert (0, ["pause"]) in seen and (1, ["pause"]) in seen


def test_the_heal_ends_the_workload_phase(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    heal = {"index": 6, "time": 4_000_000_000, "process": "nemesis", "f": "heal", "value": None}
    tail = HistoryTail(history, time_limit=3)
    ops = list(OPS)
    for kind, phase in (("invoke", "healing"), ("ok", "healed: final reads, then the checkers")):
        ops.append({**heal, "type": kind})
        history.write_text("".join(json.dumps(op) + "\n" for op in ops))
        tail.advance()
        assert tail.progress()["phase"] == phase and phase in tail.progress()["line"]


def test_a_torn_last_line_is_not_an_op(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(OPS[3]) + "\n" + '{"index": 4, "ty')
    tail = HistoryTail(history)
    tail.advance()
    assert tail.ops == 1 and tail.progress()["ok"] == 1
