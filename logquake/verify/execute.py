"""Running a matrix: its cells one after another, each run through the runner `logquake run` uses.

The runner heals, tears down and checks every run whatever happens to it, Ctrl-C included; when
a run was stopped by Ctrl-C (or Ctrl-C comes between runs) the verification stops there and keeps
what ran. Runs are stored as `logquake run` stores them; the verification's own directory,
store/verify/<timestamp>/, links each one under runs/ and holds verify.json, verify.html and the
terminal matrix, rewritten after every run so that an interrupted verification still shows what ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nemesis
from harness.spec import TestSpec
from logquake import store
from logquake.runner import INTERRUPTED
from logquake.runner import RunOutcome as Run
from logquake.verify.matrix import Cell, Matrix
from logquake.verify.outcome import UNDECIDED, RunOutcome, cell_outcome, exit_status, run_outcome

VERIFY = "verify"
RUNS = "runs"

RunSpec = Callable[[TestSpec, Path], Run]
"""Runs one spec under a store root: the runner's run, in everything but tests of this module."""


@dataclass
class RunRecord:
    seed: int
    outcome: RunOutcome
    time_s: float
    run_dir: Path | None = None
    link: str | None = None
    """The run's directory as linked from the verification's directory (runs/<cell>-seed<N>)."""

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "outcome": self.outcome.outcome, "reasons": self.outcome.reasons,
                "forbidden": self.outcome.forbidden, "allowed": self.outcome.allowed,
                "possible": list(self.outcome.possible), "time_s": round(self.time_s, 3),
                "run_dir": str(self.run_dir) if self.run_dir else None, "link": self.link}


@dataclass
class CellRecord:
    cell: Cell
    runs: list[RunRecord] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.runs) == len(self.cell.specs)

    @property
    def outcome(self) -> str:
        """Runs that did not happen (the matrix was interrupted) leave the cell undecided, unless one that did
        broke the claim or showed the weakness."""
        missing = [] if self.complete else [UNDECIDED]
        return cell_outcome([*(run.outcome.outcome for run in self.runs), *missing])

    @property
    def time_s(self) -> float:
        return sum(run.time_s for run in self.runs)


@dataclass
class Verification:
    matrix: Matrix
    directory: Path
    fail_on_unshown: bool = False
    cells: list[CellRecord] = field(default_factory=list)
    interrupted: bool = False
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    @property
    def exit_code(self) -> int:
        return exit_status([cell.outcome for cell in self.cells], self.fail_on_unshown)


def verify(matrix: Matrix, store_root: Path, run_spec: RunSpec, fail_on_unshown: bool = False,
           written: Callable[[Verification], None] = lambda _: None,
           say: Callable[[str], None] = lambda _: None) -> Verification:
    """Runs every cell's specs in order; `written(verification)` after each run (to write the outputs)."""
    directory = store.new_run_dir(store_root, VERIFY, store_latest=False)
    (directory / RUNS).mkdir()
    verification = Verification(matrix, directory, fail_on_unshown, [CellRecord(cell) for cell in matrix.cells])
    total = sum(len(cell.specs) for cell in matrix.cells)
    try:
        _run_cells(verification, store_root, run_spec, written, say, total)
    except KeyboardInterrupt:
        verification.interrupted = True
    written(verification)
    return verification


def _run_cells(verification: Verification, store_root: Path, run_spec: RunSpec,
               written: Callable[[Verification], None], say: Callable[[str], None], total: int) -> None:
    done = 0
    for record in verification.cells:
        for spec in record.cell.specs:
            done += 1
            say(f"[{done}/{total}] {record.cell.name} (seed {spec.seed})")
            run = _run(record.cell, spec, store_root, verification.directory, run_spec)
            record.runs.append(run)
            if INTERRUPTED in run.outcome.reasons:
                verification.interrupted = True
                return
            written(verification)


def _run(cell: Cell, spec: TestSpec, store_root: Path, directory: Path, run_spec: RunSpec) -> RunRecord:
    missing = nemesis.unavailable(spec.nemesis)
    if missing:
        return RunRecord(spec.seed, RunOutcome(UNDECIDED, [f"not run: {missing}"]), 0.0)
    started = time.monotonic()
    run = run_spec(spec, store_root)
    elapsed = time.monotonic() - started
    test = store.read_json(run.run_dir / store.TEST)
    link = Path(RUNS) / f"{cell.slug}-seed{spec.seed}"
    (directory / link).symlink_to(os.path.relpath(run.run_dir.resolve(), (directory / RUNS).resolve()))
    return RunRecord(spec.seed, run_outcome(test, run.results), elapsed, run.run_dir, str(link))
