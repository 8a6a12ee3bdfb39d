"""A JVM under the preload (Apache ZooKeeper runs as a keeper kind): System.currentTimeMillis and
Instant.now follow the control file, System.nanoTime (CLOCK_MONOTONIC) does not."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from cluster.clock import ClockControl, ClockState, library_path, preload_environment
from tests.clock.probes import ANSWER_TIMEOUT_S
from tests.facilities import require_program

SOURCE = Path(__file__).with_name("WallClock.java")
DAY_NS = 86_400 * 10**9


def test_the_jvm_wall_clock_follows_the_control_file_and_its_nano_time_does_not(tmp_path) -> None:
    java = require_program("java")
    control = ClockControl.create(tmp_path / "clock")
    env = {**os.environ, **preload_environment(str(library_path()), str(control.path))}
    jvm = subprocess.Popen([java, str(SOURCE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
    try:
        for step in (0, DAY_NS, -2 * DAY_NS, 10**9):
            state = control.bump(step)
            assert_jvm_reading(jvm, state)
        assert_jvm_reading(jvm, control.reset())
    finally:
        control.close()
        _, stderr = jvm.communicate(timeout=ANSWER_TIMEOUT_S)
    assert jvm.returncode == 0, stderr
    assert "clock shift" not in stderr


def assert_jvm_reading(jvm: subprocess.Popen, state: ClockState) -> None:
    """One reading, bracketed by this (unshifted) process's true clocks."""
    assert jvm.stdin is not None and jvm.stdout is not None
    wall_before, monotonic_before = time.time_ns(), time.monotonic_ns()
    jvm.stdin.write("\n")
    jvm.stdin.flush()
    line = jvm.stdout.readline()
    wall_after, monotonic_after = time.time_ns(), time.monotonic_ns()
    millis, instant_ns, nano_time = map(int, line.split())
    shift = state.offset_ns
    assert (wall_before + shift) // 10**6 <= millis <= (wall_after + shift) // 10**6
    assert wall_before + shift <= instant_ns <= wall_after + shift
    assert monotonic_before <= nano_time <= monotonic_after
