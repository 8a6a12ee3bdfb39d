"""The store: one directory per run, store/<test-name>/<timestamp>/, and store/latest pointing at the newest.

A run directory holds test.json (the spec), history.jsonl (streamed while the run goes),
harness.log, nodes/ (every node's log, collected at teardown), results.json, the checkers'
plots and timeline.html, and report.html. Everything needed to re-check it is inside.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

TEST = "test.json"
HISTORY = "history.jsonl"
RESULTS = "results.json"
HARNESS_LOG = "harness.log"
NODE_LOGS = "nodes"
REPORT = "report.html"
LATEST = "latest"


class StoreError(ValueError):
    """A directory that is not a stored run, or a run missing a file it needs."""


def new_run_dir(store_root: Path, test_name: str, store_latest: bool = True) -> Path:
    """Creates store_root/<test_name>/<timestamp>/ and points `latest` (store-wide, unless store_latest is false,
    and per test) at it; what is not a run (a verification of many) leaves the store-wide one to runs."""
    test_dir = store_root / test_name
    test_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for attempt in range(1000):
        run_dir = test_dir / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    else:
        raise StoreError(f"no free run directory name under {test_dir}")
    if store_latest:
        _point(store_root / LATEST, Path(test_name) / run_dir.name)
    _point(test_dir / LATEST, Path(run_dir.name))
    return run_dir


def _point(link: Path, target: Path) -> None:
    """Replace a symlink atomically, so `latest` never dangles half-way."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    os.replace(temporary, link)


def write_json(path: Path, data: Any) -> None:
    """Written whole or not at all: a crash never leaves half a results.json."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{path.parent} is not a stored run: {path.name} is missing") from None
    except json.JSONDecodeError as error:
        raise StoreError(f"{path}: not JSON ({error})") from None


def resolve_run_dir(path: Path) -> Path:
    """A run directory, or a store / test directory whose `latest` names one."""
    path = path.resolve()
    if not (path / TEST).exists() and (path / LATEST).exists():
        return resolve_run_dir(path / LATEST)
    if not (path / TEST).exists():
        raise StoreError(f"{path} is not a stored run (no {TEST})")
    return path
