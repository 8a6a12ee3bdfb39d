"""Runs a user's test file under the plugin, in a pytest of its own, as a user's CI would.

The plugin is named with `-p` (an environment installed before the entry point was declared lacks
it); the child pytest imports logquake, and the tests' own helpers, from this tree, and keeps every
test's run directory under `store`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "logquake.pytest_plugin"


def run_user_tests(pytester: pytest.Pytester, source: str, store: Path, *arguments: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        return pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider", "--logquake-store", str(store),
                                             "-o", "addopts=", *arguments)


def latest_run(store: Path) -> Path:
    """The run directory of the user's last test."""
    return (store / "latest").resolve()
