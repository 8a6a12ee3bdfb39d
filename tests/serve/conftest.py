"""One fixture store per test session: building it re-checks a run with its plots (a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.browser import chromium
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    yield from chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records console errors and uncaught exceptions in page.errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.errors = []
    opened.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
