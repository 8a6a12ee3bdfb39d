"""One fixture store per test session: building it re-checks a run with its plots (a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve.server import Served, serving
from tests.serve.stores import fixture_store


@pytest.fixture(scope="session")
def outside_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("a file outside the store\n")
    return secret


@pytest.fixture(scope="session")
def served_store(tmp_path_factory: pytest.TempPathFactory, outside_file: Path) -> Path:
    return fixture_store(tmp_path_factory.mktemp("served"), outside_file)


@pytest.fixture(scope="session")
def served(served_store: Path) -> Iterator[Served]:
    with serving(served_store) as server:
        yield server
