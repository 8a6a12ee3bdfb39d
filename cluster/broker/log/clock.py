"""The broker's two clocks, in milliseconds, passed in so that the simulator and tests can drive them.

The wall clock (epoch milliseconds) is for what Kafka measures in wall time: record
timestamps (LogAppendTime), retention.ms, segment age and flush intervals, commit
timestamps. The monotonic clock is for timeouts (ISR lag, produce and fetch waits,
group sessions), which a step of the wall clock must neither expire nor stretch.
"""

from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000
