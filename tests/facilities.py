"""Tests that need a facility (Docker, root, FUSE, iptables, a Debian tool) ask for it here.

Outside CI a missing facility skips the test with the reason; with CI=true it
fails the test, because CI must prove everything, not quietly skip it.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(available: bool, facility: str, reason: str) -> None:
    if available:
        return
    message = f"{facility} unavailable: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: required facilities must be present)")
    pytest.skip(message)


def require_program(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, name, f"'{name}' is not on PATH (make install provides it)")
    assert path is not None
    return path
