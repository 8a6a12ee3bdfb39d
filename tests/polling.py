"""Waiting for a condition in a test: a loaded machine makes every fixed sleep a flaky test."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

Result = TypeVar("Result")

WAIT_S = 60.0


def wait_until(condition: Callable[[], Result], what: str, timeout_s: float = WAIT_S, every_s: float = 0.1) -> Result:
    """Polls `condition` until it returns something true, and returns that; fails naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, f"not within {timeout_s:g} s: {what}"
        time.sleep(every_s)
    return result
