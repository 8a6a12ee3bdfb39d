"""A run in progress, followed by tailing its history.jsonl: op counts, active faults, then the verdict.

The tail reads only what was appended since the last look and keeps a line that is not yet whole
for the next one, so a history being written (or torn at its end) never breaks the stream.
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logquake import store
from logquake.serve.index import verdict_of


@dataclass
class HistoryTail:
    """What the history has shown so far."""

    history: Path
    time_limit: float | None = None
    offset: int = 0
    partial: bytes = b""
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    active: dict[str, None] = field(default_factory=dict)
    ops: int = 0
    last_time_s: float = 0.0
    phase: str = "workload"
    """The runner's phase as the history shows it: the nemesis' one "heal" op ends the workload."""

    def advance(self) -> bool:
        """Reads what was appended; whether anything was."""
        try:
            with self.history.open("rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return False
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            self._observe(line)
        return bool(data)

    def _observe(self, line: bytes) -> None:
        try:
            op = json.loads(line)
        except ValueError:
            return
        if not isinstance(op, dict):
            return
        self.ops += 1
        if isinstance(op.get("time"), int):
            self.last_time_s = op["time"] / 1e9
        f, kind = str(op.get("f", "")), str(op.get("type", ""))
        if op.get("process") == "nemesis":
            if kind == "ok" and f.startswith("start-"):
                self.active[f.removeprefix("start-")] = None
            elif kind == "ok" and f.startswith("stop-"):
                self.active.pop(f.removeprefix("stop-"), None)
            elif f == "heal":
                self.phase = "healing" if kind == "invoke" else "healed: final reads, then the checkers"
                self.active.clear()
        elif kind in ("ok", "fail", "info"):
            self.counts[kind] += 1

    def progress(self) -> dict[str, Any]:
        faults = ", ".join(self.active) or "none"
        limit = f" of {self.time_limit:g}s" if self.time_limit else ""
        line = (f"{self.last_time_s:5.1f}s{limit}  {self.phase}  ok {self.counts['ok']}  fail {self.counts['fail']}  "
                f"info {self.counts['info']}  faults: {faults}")
        return {"line": line, "ok": self.counts["ok"], "fail": self.counts["fail"], "info": self.counts["info"],
                "faults": list(self.active), "time_s": round(self.last_time_s, 1), "phase": self.phase}


def finished(run_dir: Path) -> dict[str, Any] | None:
    """The run's verdict once results.json is written whole (None before)."""
    try:
        results = json.loads((run_dir / store.RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(results, dict):
        return None
    return {"verdict": verdict_of(results)}


def event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
