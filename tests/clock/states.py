"""Clock states for property tests: realistic ones, and any state the format can hold."""

from __future__ import annotations

from hypothesis import strategies as st

from cluster.clock import ClockState

HOUR_NS = 3_600 * 10**9
OFFSETS = st.integers(-30 * 24 * HOUR_NS, 30 * 24 * HOUR_NS)
RATES = st.floats(0.01, 100.0)
MONOTONIC = st.integers(0, 10_000 * HOUR_NS)
"""A year of uptime: at RATES' fastest the drift stays far from the 64-bit limit the shift saturates at."""
STATES = st.builds(ClockState, offset_ns=OFFSETS, rate=RATES, anchor_ns=MONOTONIC, strobe_delta_ns=OFFSETS,
                   strobe_period_ns=st.integers(0, HOUR_NS), strobe_until_ns=MONOTONIC)
ANY_STATES = st.builds(ClockState, offset_ns=st.integers(-(2**63), 2**63 - 1),
                       rate=st.floats(min_value=0, exclude_min=True, allow_infinity=False),
                       anchor_ns=st.integers(-(2**63), 2**63 - 1), strobe_delta_ns=st.integers(-(2**63), 2**63 - 1),
                       strobe_period_ns=st.integers(0, 2**63 - 1), strobe_until_ns=st.integers(-(2**63), 2**63 - 1))
