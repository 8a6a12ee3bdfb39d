"""The source tree keeps its shape: layers and no import loops (import-linter's contracts in pyproject.toml),
and no source file over 450 lines."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("logquake", "harness", "workloads", "nemesis", "checkers", "cluster", "pyporcupine", "benchmarks", "fuzzing")
LONGEST_SOURCE_FILE = 450


def test_imports_keep_the_layers_and_no_package_has_an_import_loop() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def test_no_source_file_is_over_450_lines() -> None:
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
               for package in SOURCE_PACKAGES for path in (ROOT / package).rglob("*.py")}
    assert {path: lines for path, lines in lengths.items() if lines > LONGEST_SOURCE_FILE} == {}
