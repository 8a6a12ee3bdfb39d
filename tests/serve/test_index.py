"""A store of 10,000 runs: the first page comes from the index, which reads a run again only when it changed.

Counted in files read (RunIndex.reads), not timed: what makes the page quick is that a request
costs a stat per run and no reads once the index is built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from logquake import store
from tests.serve.server import serving
from tests.serve.test_pages import listed

RUNS = 10_000
LONG_AGO = 1_700_000_000


def small_store(root: Path) -> Path:
    """10,000 runs of 100 tests, each a test.json and a results.json, last changed long ago."""
    for number in range(RUNS):
        run_dir = root / f"test-{number % 100:02d}" / f"20260101T{number:06d}"
        run_dir.mkdir(parents=True)
        (run_dir / store.TEST).write_text(json.dumps({"name": run_dir.parent.name, "workload": "queue",
                                                      "nemesis": ["kill"] if number % 2 else []}))
        (run_dir / store.RESULTS).write_text(json.dumps({"valid": number % 3 != 0}))
        os.utime(run_dir, (LONG_AGO, LONG_AGO))
    return root


def settled(run_dir: Path) -> None:
    """A change made long enough ago that the index trusts the directory's new mtime (not read again)."""
    os.utime(run_dir, (LONG_AGO + 1, LONG_AGO + 1))


def test_ten_thousand_runs_are_read_once_then_served_from_the_index(tmp_path: Path) -> None:
    store_root = small_store(tmp_path / "store")
    with serving(store_root) as served:
        first = listed(served.text("/"))
        index = served.app.state.index
        assert index.reads == 2 * RUNS
        assert len(first) == 50 and next(iter(first)) == "test-99/20260101T009999"
        assert f"{RUNS} of {RUNS} runs" in served.text("/?page=3")
        assert listed(served.text("/?verdict=invalid&fault=kill"))
        assert index.reads == 2 * RUNS

        changed = store_root / "test-99" / "20260101T009999"
        assert first["test-99/20260101T009999"] == "invalid"
        store.write_json(changed / store.RESULTS, {"valid": True})
        settled(changed)
        assert listed(served.text("/"))["test-99/20260101T009999"] == "valid"
        assert index.reads == 2 * RUNS + 2

        added = store_root / "test-00" / "20270101T000000"
        added.mkdir()
        store.write_json(added / store.TEST, {"name": "test-00", "workload": "queue"})
        settled(added)
        assert next(iter(listed(served.text("/")))) == "test-00/20270101T000000"
        assert index.reads == 2 * RUNS + 2 + 2
