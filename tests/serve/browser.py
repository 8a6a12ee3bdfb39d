"""Debian's chromium driven by Playwright for Python, and where the browser tests leave their screenshots.

Playwright's own browser downloads are not used (and not possible offline): it launches the
chromium Debian installs (`make test` installs it). The screenshots go to .artifacts/serve/ at the
repository's root, one per page, for a person (or CI's artifact upload) to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.facilities import require

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "serve"
CHROMIUM = "/usr/bin/chromium"


def chromium() -> Iterator[Any]:
    """A headless chromium for the session (skips, or fails under CI=true, when chromium or Playwright is missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "playwright", "the playwright Python package is not installed "
            "(make install provides it)")
    require(shutil.which(CHROMIUM) is not None, "chromium", f"{CHROMIUM} is missing (Debian's chromium package; "
            "make install provides it)")
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
