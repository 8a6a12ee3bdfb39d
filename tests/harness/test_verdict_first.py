"""`logquake check` writes results.json with the verdict before any plot is drawn, and --no-plots draws none."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from checkers import perf
from logquake.commands import check_command
from logquake.runner import check_run

STORED = Path(__file__).parent / "stored_runs"
DRAWN = ("*.png", "timeline.html", "report.html")


def stored_run(tmp_path: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """A copy of a stored run without its results.json, and the results it had."""
    run_dir = tmp_path / name
    shutil.copytree(STORED / name, run_dir)
    stored = json.loads((run_dir / "results.json").read_text())
    (run_dir / "results.json").unlink()
    return run_dir, stored


def drawn(run_dir: Path) -> list[str]:
    return sorted(path.name for pattern in DRAWN for path in run_dir.glob(pattern))


@pytest.mark.parametrize("name", sorted(path.name for path in STORED.iterdir()))
def test_no_plots_writes_the_verdict_and_nothing_drawn(tmp_path: Path, name: str) -> None:
    run_dir, stored = stored_run(tmp_path, name)

    result = CliRunner().invoke(check_command, ["--no-plots", str(run_dir)])

    results = json.loads((run_dir / "results.json").read_text())
    assert results["valid"] == stored["valid"]
    assert result.exit_code == {True: 0, False: 1, "unknown": 2}[stored["valid"]], result.output
    assert drawn(run_dir) == []
    assert all((run_dir / name).is_file() for name in results["files"])
    assert set(results["files"]) <= set(stored["files"])
    assert f"report: {run_dir}" in result.output


def test_the_verdict_is_on_disk_and_announced_before_any_plot_is_drawn(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, stored = stored_run(tmp_path, "queue-lost-write")
    seen: list[str] = []

    def plot_perf(test: dict[str, Any], history: list[Any], out_dir: Path) -> list[Path]:
        seen.append(f"perf saw {json.loads((run_dir / 'results.json').read_text())['valid']}")
        return []

    monkeypatch.setattr(perf, "plot_perf", plot_perf)
    check_run(run_dir, on_verdict=lambda results: seen.append(f"told {results['valid']}"))

    assert stored["valid"] is False
    assert seen == ["told False", "perf saw False"]


def test_a_crashing_plot_leaves_the_verdict_and_the_other_drawings(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, stored = stored_run(tmp_path, "queue-pause")

    def crash(*_args: Any) -> list[Path]:
        raise RuntimeError("no plot today")

    monkeypatch.setattr(perf, "plot_perf", crash)
    check_run(run_dir)

    results = json.loads((run_dir / "results.json").read_text())
    assert results["valid"] == stored["valid"]
    assert results["errors"] == {"perf": "RuntimeError: no plot today"}
    assert results["files"] == ["timeline.html"]
    assert drawn(run_dir) == ["report.html", "timeline.html"]
