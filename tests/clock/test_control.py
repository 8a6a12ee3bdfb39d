"""The control file's writer and the shift function the preload library mirrors."""

from __future__ import annotations

import math
import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.clock import ClockControl, ClockState
from cluster.clock.control import FIELDS_OFFSET, MAGIC, SEQUENCE_OFFSET, SIZE, VERSION
from tests.clock.states import ANY_STATES, HOUR_NS, MONOTONIC, OFFSETS, RATES, STATES


def stored(control: ClockControl) -> tuple[int, ClockState]:
    """The sequence number and state in the file, read as the library reads it."""
    data = control.path.read_bytes()
    assert len(data) == SIZE
    assert data[:4] == MAGIC and struct.unpack_from("<I", data, 4) == (VERSION,)
    (sequence,) = struct.unpack_from("<Q", data, SEQUENCE_OFFSET)
    return sequence, ClockState.decode(data[FIELDS_OFFSET:SIZE])


@pytest.fixture
def control(tmp_path):
    made = ClockControl.create(tmp_path / "clock")
    yield made
    made.close()


@given(state=ANY_STATES)
def test_a_state_is_decoded_as_it_was_encoded(state) -> None:
    assert ClockState.decode(state.encode()) == state


@given(state=ANY_STATES, monotonic=st.integers(-(2**63), 2**63 - 1))
def test_the_shift_of_any_state_is_a_64_bit_integer(state, monotonic) -> None:
    assert -(2**63) <= state.shift_ns(monotonic) < 2**63


def test_a_new_control_file_says_true_time(control) -> None:
    assert stored(control) == (0, ClockState())
    assert control.state() == ClockState()
    assert control.shift_ns() == 0


@given(states=st.lists(STATES, min_size=1, max_size=5))
def test_every_write_is_stored_whole_with_an_even_sequence(tmp_path_factory, states) -> None:
    control = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    try:
        for count, state in enumerate(states, start=1):
            assert control.write(state) == state
            assert stored(control) == (2 * count, state)
            assert control.state() == state
    finally:
        control.close()


@given(start=STATES, delta=OFFSETS, monotonic=MONOTONIC)
def test_a_bump_moves_the_clock_by_its_delta_and_keeps_rate_and_strobe(tmp_path_factory, start, delta,
                                                                       monotonic) -> None:
    control = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    try:
        control.write(start)
        bumped = control.bump(delta)
        assert bumped.shift_ns(monotonic) - start.shift_ns(monotonic) == delta
        assert (bumped.rate, bumped.anchor_ns, bumped.strobe_delta_ns, bumped.strobe_period_ns,
                bumped.strobe_until_ns) == (start.rate, start.anchor_ns, start.strobe_delta_ns,
                                            start.strobe_period_ns, start.strobe_until_ns)
        assert stored(control)[1] == bumped
    finally:
        control.close()


@given(offset=OFFSETS, first=RATES, second=RATES, later=st.integers(0, HOUR_NS))
def test_a_skew_runs_the_clock_at_its_rate_from_where_it_was(tmp_path_factory, offset, first, second,
                                                             later) -> None:
    control = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    try:
        control.bump(offset)
        before = control.skew(first)
        after = control.skew(second)
        change = after.anchor_ns
        assert before.anchor_ns <= change
        assert after.shift_ns(change) == before.shift_ns(change), "the clock is continuous at a rate change"
        assert after.rate == second
        drift = after.shift_ns(change + later) - after.shift_ns(change)
        assert abs(drift - (second - 1) * later) <= 1
    finally:
        control.close()


@given(base=OFFSETS, delta=OFFSETS.filter(bool), period=st.integers(1, HOUR_NS), periods=st.integers(1, 100))
def test_a_strobe_flips_between_two_offsets_every_period_until_it_ends(tmp_path_factory, base, delta, period,
                                                                       periods) -> None:
    control = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    try:
        control.bump(base)
        started = time.monotonic_ns()
        strobing = control.strobe(delta, period, periods * period)
        assert started + periods * period <= strobing.strobe_until_ns <= time.monotonic_ns() + periods * period
        first = strobing.strobe_until_ns - periods * period
        seen = [strobing.shift_ns(first + step * period) for step in range(periods)]
        assert set(seen) <= {base, base + delta}
        assert all(one != other for one, other in zip(seen, seen[1:])), "each period flips"
        assert strobing.shift_ns(strobing.strobe_until_ns) == base
        assert strobing.shift_ns(strobing.strobe_until_ns + 7 * period) == base
    finally:
        control.close()


def test_a_reset_returns_to_true_time(control) -> None:
    control.bump(HOUR_NS)
    control.skew(2.0)
    control.strobe(HOUR_NS, 10**6, HOUR_NS)
    assert control.reset() == ClockState()
    assert stored(control)[1] == ClockState()
    assert control.shift_ns() == 0


@given(state=STATES.filter(lambda state: state.strobe_period_ns == 0))
def test_the_shift_now_is_the_states_shift_at_monotonic_now(tmp_path_factory, state) -> None:
    control = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    try:
        control.write(state)
        before = time.monotonic_ns()
        shift = control.shift_ns()
        after = time.monotonic_ns()
        low, high = sorted((state.shift_ns(before), state.shift_ns(after)))
        assert low <= shift <= high
    finally:
        control.close()


@pytest.mark.parametrize("fields", [{"rate": 0.0}, {"rate": -1.0}, {"rate": math.nan}, {"rate": math.inf},
                                    {"offset_ns": 2**63}, {"anchor_ns": -(2**63) - 1}, {"strobe_period_ns": -1},
                                    {"offset_ns": 1.5}])
def test_a_state_the_library_could_not_follow_is_refused(fields) -> None:
    with pytest.raises(ValueError, match="clock"):
        ClockState(**fields)


def test_a_strobe_without_a_period_is_refused(control) -> None:
    with pytest.raises(ValueError, match="period above 0"):
        control.strobe(HOUR_NS, 0, HOUR_NS)
    assert stored(control)[1] == ClockState()


def test_a_control_file_needs_its_directory(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ClockControl.create(tmp_path / "missing" / "clock")


def test_creating_again_replaces_the_file_and_leaves_an_open_mapping_intact(tmp_path) -> None:
    first = ClockControl.create(tmp_path / "clock")
    first.bump(HOUR_NS)
    second = ClockControl.create(tmp_path / "clock")
    try:
        assert stored(second) == (0, ClockState())
        assert first.bump(HOUR_NS).offset_ns == 2 * HOUR_NS, "the old mapping is still writable, not truncated"
        assert stored(second) == (0, ClockState())
    finally:
        first.close()
        second.close()
