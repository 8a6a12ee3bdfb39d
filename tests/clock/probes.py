"""The parent's side of tests/clock/probe_child.py: start it under the preload, ask, and bound the answers."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path

from cluster.clock import ClockState, library_path, preload_environment

CHILD = Path(__file__).with_name("probe_child.py")
ANSWER_TIMEOUT_S = 120
"""Far beyond any answer's time: a child that waits on a shifted deadline would otherwise hang the test."""


class Probe:
    """A Python child process with the clock shift preloaded, answering one command at a time."""

    def __init__(self, control_file: Path | str | None, extra_env: dict[str, str] | None = None) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ("LD_PRELOAD", "LOGQUAKE_CLOCK_FILE")}
        if control_file is None:
            env["LD_PRELOAD"] = str(library_path())
        else:
            env.update(preload_environment(str(library_path()), str(control_file)))
        env.update(extra_env or {})
        self.process = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        self.selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self.selector.register(self.process.stdout, selectors.EVENT_READ)

    def ask(self, command: str) -> object:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        if not self.selector.select(ANSWER_TIMEOUT_S):
            raise AssertionError(f"the child did not answer {command!r} within {ANSWER_TIMEOUT_S} s")
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the child exited ({self.process.wait()}): {self.stderr()}")
        return json.loads(line)

    def sample(self) -> dict[str, int]:
        answer = self.ask("sample")
        assert isinstance(answer, dict)
        return answer

    def close(self) -> tuple[int, str]:
        """Ends the child: its exit status and what it wrote on stderr."""
        self.selector.close()
        assert self.process.stdin is not None
        self.process.stdin.close()
        status = self.process.wait(ANSWER_TIMEOUT_S)
        return status, self.stderr()

    def stderr(self) -> str:
        assert self.process.stderr is not None and self.process.stdout is not None
        self.process.stdout.close()
        text = self.process.stderr.read()
        self.process.stderr.close()
        return text


def shift_bounds(state: ClockState, sample: dict[str, int]) -> tuple[int, int]:
    """The shifts the state allows between the sample's two true monotonic readings (the
    shift is monotonic in between unless a strobe flips there, which the two ends cover)."""
    ends = (state.shift_ns(sample["monotonic_before"]), state.shift_ns(sample["monotonic_after"]))
    return min(ends), max(ends)


def assert_shifted(sample: dict[str, int], state: ClockState) -> None:
    """Every wall-clock reading is its clock's true value plus the state's shift, to the
    reading's resolution; the monotonic readings are true."""
    low, high = shift_bounds(state, sample)
    realtime = (sample["realtime_before"] + low, sample["realtime_after"] + high)
    within(sample, "time_ns", realtime, 1)
    within(sample, "realtime_ns", realtime, 1)
    within(sample, "gettimeofday_us", realtime, 1_000)
    within(sample, "datetime_us", realtime, 1_000)
    within(sample, "time_s", realtime, 10**9)
    within(sample, "coarse_ns", (sample["coarse_before"] + low, sample["coarse_after"] + high), 1)
    within(sample, "tai_ns", (sample["tai_before"] + low, sample["tai_after"] + high), 1)
    monotonic = (sample["monotonic_before"], sample["monotonic_after"])
    within(sample, "monotonic_ns", monotonic, 1)
    within(sample, "python_monotonic_ns", monotonic, 1)


def within(sample: dict[str, int], name: str, bounds_ns: tuple[int, int], unit_ns: int) -> None:
    low, high = bounds_ns[0] // unit_ns, bounds_ns[1] // unit_ns
    assert low <= sample[name] <= high, f"{name} {sample[name]} is not within [{low}, {high}] (units of {unit_ns} ns)"
