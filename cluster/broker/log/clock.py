"""The log's time: epoch milliseconds from a clock passed in, so the simulator can drive it deterministically."""

from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
