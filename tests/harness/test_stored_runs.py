"""Runs stored by earlier versions of logquake re-check to the verdict they had: the stored format is a contract.

Each folder of stored_runs/ is a run directory as `logquake run` left it (test.json, history.jsonl,
results.json; plots and pages are made again by the check): queue under pauses, register under kills
on three keepers, log under kills, and the queue run with one acknowledged send appended that no poll
read (a lost write, so invalid).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from logquake.commands import check_command

STORED = Path(__file__).parent / "stored_runs"
EXIT_CODES = {True: 0, False: 1, "unknown": 2}


@pytest.mark.parametrize("name", sorted(path.name for path in STORED.iterdir()))
def test_a_stored_run_rechecks_to_its_stored_verdict(tmp_path: Path, name: str) -> None:
    run_dir = tmp_path / name
    shutil.copytree(STORED / name, run_dir)
    stored = json.loads((run_dir / "results.json").read_text())
    workload = json.loads((run_dir / "test.json").read_text())["workload"]

    result = CliRunner().invoke(check_command, [str(run_dir)])

    assert result.exit_code == EXIT_CODES[stored["valid"]], result.output
    rechecked = json.loads((run_dir / "results.json").read_text())
    assert rechecked["valid"] == stored["valid"]
    assert rechecked[workload] == stored[workload]
    assert rechecked["stats"] == stored["stats"]
    assert sorted(rechecked["files"]) == sorted(stored["files"])
    assert (run_dir / "report.html").is_file()
