"""The runs of a store, summarised once and kept fresh by the directories' change times.

A store of 10,000 runs must open quickly, and re-reading every test.json and results.json on
each request would not. A run directory's mtime changes whenever a file is created, replaced or
removed in it (results.json is written by rename), so a run whose directory kept its mtime keeps
its summary; a refresh costs one stat per run, and reads only the runs that changed. A directory
changed in the last second is read again on the next refresh too: a filesystem's timestamps are
coarse, and a second change within the same tick would not move the mtime (git's "racy" entries).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkers.claim import UNCLEAN_ELECTION
from logquake import store
from logquake.verify.execute import VERIFY

VERDICTS = ("valid", "invalid", "unknown", "interrupted", "running", "damaged")
LIVE_SECONDS = 120.0
"""A run without results.json whose history changed this recently is taken to be running, else damaged."""
_TAIL_BYTES = 4096
_SETTLED_NS = 1_000_000_000


@dataclass(frozen=True)
class RunSummary:
    """What the runs page shows of a run; `path` is the run directory relative to the store."""

    path: str
    name: str
    stamp: str
    workload: str = ""
    faults: tuple[str, ...] = ()
    acks: str = ""
    election: str = ""
    verdict: str = "damaged"
    ops: dict[str, int] = field(default_factory=dict)
    duration_s: float | None = None
    problem: str = ""
    history: str = ""
    """For a run without results.json, its history's path: whether it still grows is asked at each status()."""

    def status(self, now: float) -> str:
        """The verdict, or for a run with no results yet: running while its history moves, damaged after (appending
        to the history does not change the directory's mtime, so this looks at the file itself, one stat)."""
        if self.verdict != "running":
            return self.verdict
        try:
            moved = now - os.stat(self.history).st_mtime < LIVE_SECONDS
        except OSError:
            moved = False
        return "running" if moved else "damaged"


class RunIndex:
    """The store's runs, newest first. `reads` counts the files read, so that tests can see what a refresh costs."""

    def __init__(self, store_root: Path) -> None:
        self.store_root = Path(store_root)
        self.reads = 0
        self._summaries: dict[str, tuple[int, RunSummary]] = {}
        """Per run path: the directory's mtime when it was read (-1 while it had not settled), and its summary."""
        self._newest_first: list[RunSummary] = []
        self._lock = threading.Lock()

    def runs(self) -> list[RunSummary]:
        with self._lock:
            seen = {}
            now = time.time_ns()
            changed = False
            for path, mtime in run_dirs(self.store_root):
                cached = self._summaries.get(path)
                if cached and cached[0] == mtime:
                    seen[path] = cached
                else:
                    settled = now - mtime > _SETTLED_NS
                    seen[path] = (mtime if settled else -1, self._summarise(self.store_root / path, path))
                    changed = True
            if changed or len(seen) != len(self._summaries):
                self._newest_first = sorted((summary for _, summary in seen.values()),
                                            key=lambda s: (s.stamp, s.name), reverse=True)
            self._summaries = seen
            return self._newest_first

    def _read(self, path: Path) -> Any:
        self.reads += 1
        return json.loads(path.read_text(encoding="utf-8"))

    def _summarise(self, run_dir: Path, path: str) -> RunSummary:
        base = RunSummary(path, run_dir.parent.name, run_dir.name)
        try:
            test = self._read(run_dir / store.TEST)
        except (OSError, ValueError) as error:
            return RunSummary(**{**base.__dict__, "problem": f"test.json unreadable: {_why(error)}"})
        if not isinstance(test, dict):
            return RunSummary(**{**base.__dict__, "problem": "test.json is not a JSON object"})
        described = RunSummary(
            path, str(test.get("name", base.name)), base.stamp, str(test.get("workload", "")),
            tuple(str(fault) for fault in test.get("nemesis", []) or []), str(test.get("acks", "")),
            _election(test))
        return self._with_results(run_dir, described)

    def _with_results(self, run_dir: Path, described: RunSummary) -> RunSummary:
        fields = described.__dict__
        history = run_dir / store.HISTORY
        try:
            results = self._read(run_dir / store.RESULTS)
        except FileNotFoundError:
            torn = self._torn(history)
            if torn:
                return RunSummary(**{**fields, "problem": f"no results.json; {torn}"})
            return RunSummary(**{**fields, "verdict": "running", "history": str(history),
                                 "problem": "no results.json"})
        except (OSError, ValueError) as error:
            return RunSummary(**{**fields, "problem": f"results.json unreadable: {_why(error)}"})
        if not isinstance(results, dict):
            return RunSummary(**{**fields, "problem": "results.json is not a JSON object"})
        total = (results.get("stats") or {}).get("total") or {}
        ops = {kind: int(total[kind]) for kind in ("count", "ok", "fail", "info") if isinstance(total.get(kind), int)}
        duration = (results.get("stats") or {}).get("duration_s")
        return RunSummary(**{**fields, "verdict": verdict_of(results), "ops": ops,
                             "duration_s": float(duration) if isinstance(duration, (int, float)) else None})

    def _torn(self, history: Path) -> str:
        """Why the history's last line is not a whole operation ("" when it is, or there is no history)."""
        try:
            with history.open("rb") as file:
                file.seek(max(0, file.seek(0, os.SEEK_END) - _TAIL_BYTES))
                tail = file.read()
        except OSError:
            return ""
        self.reads += 1
        last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        if not last:
            return ""
        try:
            json.loads(last)
        except ValueError:
            return "history.jsonl is torn (its last line is not JSON)"
        return ""


def select(runs: list[RunSummary], verdict: str = "", workload: str = "", fault: str = "",
           search: str = "") -> list[RunSummary]:
    """The runs a filter keeps: by status, workload, fault, and a case-blind search of the test name."""
    now = time.time()
    return [run for run in runs
            if (not verdict or run.status(now) == verdict) and (not workload or run.workload == workload)
            and (not fault or fault in run.faults) and search.lower() in run.name.lower()]


def verdict_of(results: dict[str, Any]) -> str:
    if results.get("interrupted"):
        return "interrupted"
    valid = results.get("valid")
    return "valid" if valid is True else "invalid" if valid is False else "unknown"


def _election(test: dict[str, Any]) -> str:
    overrides = test.get("broker_overrides") or {}
    unclean = isinstance(overrides, dict) and str(overrides.get(UNCLEAN_ELECTION, "false")).lower() == "true"
    return "unclean" if unclean else "clean"


def _why(error: Exception) -> str:
    return "missing" if isinstance(error, FileNotFoundError) else type(error).__name__


def run_dirs(store_root: Path) -> list[tuple[str, int]]:
    """Every store_root/<test>/<run>/ directory as (test/run, its mtime in ns); not the `latest` links, not the
    verifications under verify/. Strings and scandir entries, not Paths: this runs for every run on every request."""
    return [(f"{test_dir.name}/{run_dir.name}", mtime) for test_dir, _ in _real_dirs(str(store_root))
            if test_dir.name != VERIFY for run_dir, mtime in _real_dirs(test_dir.path)]


def _real_dirs(directory: str) -> list[tuple[os.DirEntry[str], int]]:
    """The directory's subdirectories (not symlinks, not hidden) with their mtimes; gone ones are left out."""
    found = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                    continue
                try:
                    found.append((entry, entry.stat(follow_symlinks=False).st_mtime_ns))
                except FileNotFoundError:
                    continue
    except OSError:
        return []
    return found
