"""A Python process under the preload: its wall clock follows the control file, its monotonic clock
and its waits do not."""

from __future__ import annotations

import time

import pytest

from cluster.clock import ClockControl, ClockState
from tests.clock.probes import Probe, assert_shifted, shift_bounds

DAY_NS = 86_400 * 10**9
SLEEP_S = 0.05


@pytest.fixture
def control(tmp_path):
    made = ClockControl.create(tmp_path / "clock")
    yield made
    made.close()


@pytest.fixture
def probe(control):
    child = Probe(control.path)
    yield child
    status, stderr = child.close()
    assert (status, stderr) == (0, "")


def test_a_running_process_follows_each_change_of_its_control_file(control, probe) -> None:
    assert_shifted(probe.sample(), ClockState())
    for step in (DAY_NS, -2 * DAY_NS, 10**6, -(10**6) + 1):
        bumped = control.bump(step)
        assert_shifted(probe.sample(), bumped)
    reset = control.reset()
    assert_shifted(probe.sample(), reset)


@pytest.mark.parametrize("rate", [3.0, 0.25])
def test_a_skewed_clock_runs_at_its_rate(control, probe, rate) -> None:
    control.bump(DAY_NS)
    skewed = control.skew(rate)
    time.sleep(0.2)
    sample = probe.sample()
    assert abs(shift_bounds(skewed, sample)[0] - DAY_NS) >= 0.2 * abs(rate - 1) * 10**9
    assert_shifted(sample, skewed)


def test_a_strobed_clock_flips_between_two_offsets(control, probe) -> None:
    control.bump(DAY_NS)
    strobing = control.strobe(-DAY_NS, period_ns=20 * 10**6, duration_ns=600 * 10**9)
    seen = set()
    for _ in range(500):
        sample = probe.sample()
        assert_shifted(sample, strobing)
        low, high = shift_bounds(strobing, sample)
        if low == high:
            seen.add(low)
        if seen == {0, DAY_NS}:
            break
        time.sleep(0.007)
    assert seen == {0, DAY_NS}


@pytest.mark.parametrize("bump_ns", [DAY_NS, -DAY_NS])
def test_sleeps_and_timers_wait_their_time_on_a_shifted_or_strobed_clock(control, probe, bump_ns) -> None:
    control.bump(bump_ns)
    for strobe in (False, True):
        if strobe:
            control.strobe(-2 * bump_ns, period_ns=10**6, duration_ns=600 * 10**9)
        elapsed = probe.ask(f"sleep {SLEEP_S}")
        assert isinstance(elapsed, dict)
        assert set(elapsed) == {"time.sleep", "asyncio.sleep", "call_later", "asyncio.wait_for", "Event.wait"}
        assert all(nanoseconds >= SLEEP_S * 10**9 for nanoseconds in elapsed.values()), elapsed
