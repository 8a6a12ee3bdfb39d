"""The library reads the control file as cluster/clock/control.py writes it: the same shift, bit for
bit, for any state, and never a mixture of two states while the harness rewrites it."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.clock import ClockControl, ClockState
from tests.clock.probes import Probe
from tests.clock.states import ANY_STATES, STATES

I64 = st.integers(-(2**63), 2**63 - 1)


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    made = ClockControl.create(tmp_path_factory.mktemp("clock") / "clock")
    yield made
    made.close()


@pytest.fixture(scope="module")
def probe(control):
    child = Probe(control.path)
    yield child
    status, stderr = child.close()
    assert (status, stderr) == (0, "")


@settings(max_examples=300)
@given(state=ANY_STATES | STATES, monotonic=st.lists(I64 | st.integers(0, 2**62), min_size=1, max_size=8))
def test_the_library_computes_the_shift_python_computes(control, probe, state, monotonic) -> None:
    control.write(state)
    assert probe.ask("shift " + " ".join(map(str, monotonic))) == [state.shift_ns(value) for value in monotonic]


def test_a_read_during_a_write_sees_one_whole_state(control, probe) -> None:
    monotonic = 10**15 + 1
    first = ClockState()
    second = ClockState(offset_ns=10**12, rate=2.0, anchor_ns=monotonic - 10**9, strobe_delta_ns=7,
                        strobe_period_ns=1, strobe_until_ns=monotonic + 1)
    done = threading.Event()

    def rewrite() -> None:
        while not done.is_set():
            control.write(second)
            control.write(first)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        seen = probe.ask(f"hammer {monotonic} 1000000")
    finally:
        done.set()
        writer.join()
    assert seen == sorted({first.shift_ns(monotonic), second.shift_ns(monotonic)})
