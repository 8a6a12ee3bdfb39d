"""The clock faults' options: each target's draw stays within its range and direction, ranges and values are checked
before anything is deployed, and a clock fault asks for a deployment that shifts clocks."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nemesis
from harness.spec import SpecError
from nemesis.clock_options import DIRECTIONS, FAULTS, ClockOptions

MILLISECONDS = st.integers(0, 10**9)


@given(st.tuples(MILLISECONDS, MILLISECONDS).map(sorted), st.sampled_from(DIRECTIONS), st.integers())
def test_a_bump_and_a_strobe_stay_within_their_range_and_direction(bounds, direction, seed):
    low, high = bounds
    chosen = ClockOptions.parse({"bump-min-ms": str(low), "bump-max-ms": str(high), "bump-direction": direction,
                                 "strobe-min-ms": str(low), "strobe-max-ms": str(high),
                                 "strobe-direction": direction}, FAULTS)
    rng = random.Random(seed)
    for drawn in (chosen.bump_ms(rng), chosen.strobe(rng).delta_ms):
        assert low <= abs(drawn) <= high
        assert drawn >= 0 if direction == "forward" else drawn <= 0 if direction == "backward" else True


def test_both_directions_draw_both_ways_and_a_range_of_one_value_is_that_value():
    rng = random.Random(1)
    draws = {ClockOptions().bump_ms(rng) > 0 for _ in range(50)}
    assert draws == {True, False}
    day = ClockOptions.parse({"bump-min-ms": "86400000", "bump-max-ms": "86400000", "bump-direction": "forward"},
                             ("clock-bump",))
    assert day.bump_ms(rng) == 86_400_000


@given(st.floats(0.01, 100), st.floats(0.01, 100), st.integers())
def test_a_skew_rate_stays_within_its_range(one, other, seed):
    low, high = sorted((one, other))
    chosen = ClockOptions.parse({"skew-min-rate": repr(low), "skew-max-rate": repr(high)}, ("clock-skew",))
    assert low <= chosen.skew_rate(random.Random(seed)) <= high


def test_a_strobe_takes_its_period_and_duration_as_given():
    strobe = ClockOptions.parse({"strobe-period-ms": "3", "strobe-duration-ms": "2500"}, ("clock-strobe",)).strobe(
        random.Random(0))
    assert (strobe.period_ms, strobe.duration_ms) == (3, 2500)
    assert ClockOptions().strobe(random.Random(0)).duration_ms == 0


@pytest.mark.parametrize(("given_options", "message"), [
    ({"bump-min-ms": "5000", "bump-max-ms": "10"}, r"bump-min-ms \(5000\) is above bump-max-ms \(10\)"),
    ({"skew-min-rate": "3", "skew-max-rate": "1.5"}, r"skew-min-rate \(3.0\) is above skew-max-rate \(1.5\)"),
    ({"bump-max-ms": "-1"}, "bump-max-ms='-1': must be between 0 and"),
    ({"bump-max-ms": "1.5"}, "must be a whole number"),
    ({"strobe-period-ms": "0"}, "strobe-period-ms='0': must be between 1 and 60000"),
    ({"skew-max-rate": "0"}, "skew-max-rate='0': must be between 0.01 and 100"),
    ({"bump-direction": "sideways"}, "must be one of both, forward, backward"),
])
def test_bad_values_and_inverted_ranges_are_refused_by_name(given_options, message):
    with pytest.raises(SpecError, match=message):
        nemesis.check_run(list(FAULTS), given_options, {})


def test_a_key_of_a_clock_fault_the_run_does_not_inject_is_refused():
    with pytest.raises(SpecError, match="skew-max-rate is an option of the clock-skew fault"):
        nemesis.check_run(["clock-bump"], {"skew-max-rate": "3"}, {})
    nemesis.check_run(["clock-bump", "kill"], {"bump-max-ms": "1000"}, {})


def test_parameters_name_the_faults_own_settings():
    chosen = ClockOptions.parse({"bump-max-ms": "2000", "bump-direction": "forward"}, ("clock-bump",))
    assert chosen.parameters("clock-bump") == {"bump_min_ms": 1000, "bump_max_ms": 2000, "bump_direction": "forward"}
    assert set(chosen.parameters("clock-skew")) == {"skew_min_rate", "skew_max_rate"}


def test_a_run_shifts_clocks_exactly_when_it_names_a_clock_fault_and_may_aim_at_a_whole_tier():
    assert all(nemesis.needs_clocks([fault]) for fault in FAULTS)
    assert not nemesis.needs_clocks(["kill", "latency", "packet-loss", "slow-disk"])
    assert all(nemesis.hits_whole_tiers([fault]) for fault in FAULTS)
    assert set(FAULTS) <= set(nemesis.FAULTS)
