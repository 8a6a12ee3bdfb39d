"""The clock faults' options: their family of `--nemesis-option KEY=VALUE`s (options.py).

KEYS below is the one list of the family's keys; docs/clock-faults.md describes each. Each start of a
fault draws every target's own shift from these ranges with the nemesis's seeded random stream, as
Jepsen's clock nemesis draws a delta per node: a range whose two ends are equal is a fixed value.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from harness.spec import SpecError
from nemesis import options
from nemesis.options import OptionKey, choice, number

BUMP = "clock-bump"
STROBE = "clock-strobe"
SKEW = "clock-skew"
FAULTS = (BUMP, STROBE, SKEW)
DIRECTIONS = ("both", "forward", "backward")
"""Which way a bump or a strobe moves a clock: either (drawn per target), ahead of true time, or behind it."""

_DAY_MS = 86_400_000
_YEAR_MS = 365 * _DAY_MS

KEYS = {
    "bump-min-ms": OptionKey("bump_min_ms", (BUMP,), number(0, _YEAR_MS, kind=int)),
    "bump-max-ms": OptionKey("bump_max_ms", (BUMP,), number(0, _YEAR_MS, kind=int)),
    "bump-direction": OptionKey("bump_direction", (BUMP,), choice(DIRECTIONS)),
    "strobe-min-ms": OptionKey("strobe_min_ms", (STROBE,), number(0, _YEAR_MS, kind=int)),
    "strobe-max-ms": OptionKey("strobe_max_ms", (STROBE,), number(0, _YEAR_MS, kind=int)),
    "strobe-direction": OptionKey("strobe_direction", (STROBE,), choice(DIRECTIONS)),
    "strobe-period-ms": OptionKey("strobe_period_ms", (STROBE,), number(1, 60_000, kind=int)),
    "strobe-duration-ms": OptionKey("strobe_duration_ms", (STROBE,), number(0, _DAY_MS, kind=int)),
    "skew-min-rate": OptionKey("skew_min_rate", (SKEW,), number(0.01, 100)),
    "skew-max-rate": OptionKey("skew_max_rate", (SKEW,), number(0.01, 100)),
}
"""Each option key: the field it sets, the faults it is for, and how its value is read."""

_RANGES = (("bump-min-ms", "bump-max-ms"), ("strobe-min-ms", "strobe-max-ms"), ("skew-min-rate", "skew-max-rate"))


@dataclass(frozen=True)
class Strobe:
    """One target's strobe: its clock is `delta_ms` off every other `period_ms`, for `duration_ms` (0: until the
    fault stops)."""

    delta_ms: int
    period_ms: int
    duration_ms: int


@dataclass(frozen=True)
class ClockOptions:
    bump_min_ms: int = 1_000
    bump_max_ms: int = 600_000
    """A bump moves a target's clock by between these many milliseconds (10 minutes at most by default)."""
    bump_direction: str = "both"
    strobe_min_ms: int = 1_000
    strobe_max_ms: int = 60_000
    """How far a strobing clock jumps away from its offset and back."""
    strobe_direction: str = "both"
    strobe_period_ms: int = 10
    """How long a strobing clock stays at each of its two offsets."""
    strobe_duration_ms: int = 0
    """How long a strobe lasts; 0 until the fault stops."""
    skew_min_rate: float = 0.5
    skew_max_rate: float = 2.0
    """A skewed clock runs at a rate between these (2.0: two seconds pass in each true one)."""

    def __post_init__(self) -> None:
        for low, high in _RANGES:
            if getattr(self, KEYS[low].field) > getattr(self, KEYS[high].field):
                raise SpecError(f"nemesis_options: {low} ({getattr(self, KEYS[low].field)}) is above {high} "
                                f"({getattr(self, KEYS[high].field)})")

    @classmethod
    def parse(cls, given: Mapping[str, str], faults: tuple[str, ...]) -> ClockOptions:
        """The clock options of a run that injects `faults`; SpecError names the first bad key or value."""
        return options.parse(cls, KEYS, given, faults)

    def bump_ms(self, rng: random.Random) -> int:
        """One target's bump, in milliseconds."""
        return _signed(rng, rng.randint(self.bump_min_ms, self.bump_max_ms), self.bump_direction)

    def strobe(self, rng: random.Random) -> Strobe:
        """One target's strobe."""
        delta = _signed(rng, rng.randint(self.strobe_min_ms, self.strobe_max_ms), self.strobe_direction)
        return Strobe(delta, self.strobe_period_ms, self.strobe_duration_ms)

    def skew_rate(self, rng: random.Random) -> float:
        """One target's clock rate."""
        return rng.uniform(self.skew_min_rate, self.skew_max_rate)

    def parameters(self, fault: str) -> dict[str, Any]:
        """The fault's settings as the history and the plots name them (its keys, in snake case)."""
        own = [spec.field for spec in KEYS.values() if fault in spec.faults]
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name in own}


def _signed(rng: random.Random, magnitude: int, direction: str) -> int:
    if direction == "forward":
        return magnitude
    if direction == "backward":
        return -magnitude
    return magnitude if rng.random() < 0.5 else -magnitude
