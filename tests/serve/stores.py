"""Stores for `logquake serve`'s tests, made of the committed stored runs and the real checkers and verify code.

The fixture store holds a run of each verdict (queue-pause and register-kill re-checked with their plots,
timeline, report and, for the register, the linearizability visualization), damaged runs, a run named as
a script, a symlink planted in a run pointing out of the store, node logs, and a verification
(tests/verify's stand-in runs) whose matrix links to its runs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from logquake import store
from logquake.registry import WORKLOADS
from logquake.runner import check_run
from tests.verify.test_verify_command import by_acks, stand_in, verify

STORED_RUNS = Path(__file__).resolve().parents[1] / "harness" / "stored_runs"
SCRIPT = "<script>window.pwned = true</script>"
SCRIPT_DIR = "<img src=x onerror=window.pwned=true>"
OUTSIDE = "escape"
"""The name of the symlink planted in the checked run, pointing at a file outside the store."""
LOG_LINES = 5000
OLD = 1_000_000_000.0
"""A modification time long past, so that a run without results.json reads as damaged, not running."""

VERDICTS = {
    "queue-pause/20261201T100000": "valid",
    "queue-lost-write/20261201T110000": "invalid",
    "register-kill/20261201T120000": "valid",
    "log-kill/20261201T130000": "valid",
    "interrupted/20261201T070000": "interrupted",
    f"{SCRIPT_DIR}/20261201T140000": "unknown",
    "torn/20261201T090000": "damaged",
    "broken/20261201T080000": "damaged",
}
CHECKED = "queue-pause/20261201T100000"
LINEARIZABLE = "register-kill/20261201T120000"
"""Re-checked too, for its linearizability visualization."""


def stored_run(store_root: Path, source: str, path: str) -> Path:
    run_dir = store_root / path
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STORED_RUNS / source, run_dir)
    return run_dir


def fixture_store(root: Path, outside: Path) -> Path:
    """root/store, built as the module docstring says; `outside` is a file outside it for the planted symlink."""
    store_root = root / "store"
    verify(root, stand_in(by_acks))
    for source in ("queue-pause", "queue-lost-write", "register-kill", "log-kill"):
        stored_run(store_root, source, next(path for path in VERDICTS if path.startswith(f"{source}/")))
    checked = store_root / CHECKED
    check_run(checked, workloads=WORKLOADS, plots=True)
    check_run(store_root / LINEARIZABLE, workloads=WORKLOADS, plots=True)
    (checked / store.NODE_LOGS).mkdir()
    (checked / store.NODE_LOGS / "b1.log").write_text("".join(f"line {n}\n" for n in range(LOG_LINES)))
    (checked / OUTSIDE).symlink_to(outside)

    interrupted = stored_run(store_root, "queue-pause", "interrupted/20261201T070000")
    results = json.loads((interrupted / store.RESULTS).read_text())
    store.write_json(interrupted / store.RESULTS, {**results, "interrupted": True, "valid": "unknown"})

    scripted = stored_run(store_root, "log-kill", f"{SCRIPT_DIR}/20261201T140000")
    test = json.loads((scripted / store.TEST).read_text())
    store.write_json(scripted / store.TEST, {**test, "name": SCRIPT, "workload": SCRIPT})
    store.write_json(scripted / store.RESULTS, {"valid": "unknown", "error": SCRIPT})

    torn = stored_run(store_root, "queue-pause", "torn/20261201T090000")
    (torn / store.RESULTS).unlink()
    with open(torn / store.HISTORY, "a") as history:
        history.write('{"index": 99999, "ty')
    os.utime(torn / store.HISTORY, (OLD, OLD))

    broken = stored_run(store_root, "queue-pause", "broken/20261201T080000")
    (broken / store.RESULTS).write_text("{not json")
    return store_root


def all_verdicts(store_root: Path) -> dict[str, str]:
    """Every run's expected status: the fixed runs', and the verification's stand-in runs' (by acks)."""
    expected = dict(VERDICTS)
    for run_dir in store_root.glob("verify-*/2*"):
        expected[run_dir.relative_to(store_root).as_posix()] = "valid"
    return expected
