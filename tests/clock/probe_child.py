"""Runs in a child process under the clock shift preload: answers one JSON line per command line.

Every reading is bracketed by the kernel's true clocks, read with raw system calls that no
preloaded library can intercept, so the parent can bound what the reading must be.
Commands: `sample`, `shift <monotonic ns>...`, `hammer <monotonic ns> <calls>`, `sleep <seconds>`.
"""

from __future__ import annotations

import asyncio
import ctypes
import datetime
import json
import platform
import sys
import threading
import time

CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, CLOCK_TAI = 0, 1, 5, 11
SYS_CLOCK_GETTIME = {"x86_64": 228, "aarch64": 113}[platform.machine()]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


LIBC = ctypes.CDLL(None, use_errno=True)
"""The process's global symbols: the preloaded overrides come first, as they do for a call through the PLT."""
LIBC.syscall.restype = ctypes.c_long
LIBC.time.restype = ctypes.c_long
LIBC.time.argtypes = [ctypes.c_void_p]


def nanoseconds(timespec: Timespec) -> int:
    return timespec.tv_sec * 10**9 + timespec.tv_nsec


def kernel(clock: int) -> int:
    """The kernel's own clock: a raw system call, past any preload and the vDSO."""
    timespec = Timespec()
    if LIBC.syscall(ctypes.c_long(SYS_CLOCK_GETTIME), ctypes.c_long(clock), ctypes.byref(timespec)) != 0:
        raise OSError(ctypes.get_errno(), "clock_gettime system call")
    return nanoseconds(timespec)


def through_libc(clock: int) -> int:
    timespec = Timespec()
    if LIBC.clock_gettime(clock, ctypes.byref(timespec)) != 0:
        raise OSError(ctypes.get_errno(), "clock_gettime")
    return nanoseconds(timespec)


def gettimeofday_us() -> int:
    timeval = Timeval()
    if LIBC.gettimeofday(ctypes.byref(timeval), None) != 0:
        raise OSError(ctypes.get_errno(), "gettimeofday")
    return timeval.tv_sec * 10**6 + timeval.tv_usec


def sample() -> dict[str, int]:
    """Each wall-clock reading between true readings of its own clock and CLOCK_MONOTONIC."""
    before = {"monotonic": kernel(CLOCK_MONOTONIC), "realtime": kernel(CLOCK_REALTIME),
              "coarse": kernel(CLOCK_REALTIME_COARSE), "tai": kernel(CLOCK_TAI)}
    readings = {
        "time_ns": time.time_ns(),
        "datetime_us": (datetime.datetime.now(datetime.timezone.utc) - EPOCH) // datetime.timedelta(microseconds=1),
        "gettimeofday_us": gettimeofday_us(),
        "time_s": LIBC.time(None),
        "realtime_ns": through_libc(CLOCK_REALTIME),
        "coarse_ns": through_libc(CLOCK_REALTIME_COARSE),
        "tai_ns": through_libc(CLOCK_TAI),
        "monotonic_ns": through_libc(CLOCK_MONOTONIC),
        "python_monotonic_ns": time.monotonic_ns(),
    }
    after = {"monotonic": kernel(CLOCK_MONOTONIC), "realtime": kernel(CLOCK_REALTIME),
             "coarse": kernel(CLOCK_REALTIME_COARSE), "tai": kernel(CLOCK_TAI)}
    return {**readings, **{f"{name}_before": value for name, value in before.items()},
            **{f"{name}_after": value for name, value in after.items()}}


def shifts(monotonic: list[int]) -> list[int]:
    """The library's own reading of the control file (its exported shift function)."""
    shift = LIBC.logquake_clock_shift_ns
    shift.restype, shift.argtypes = ctypes.c_int64, [ctypes.c_int64]
    return [shift(value) for value in monotonic]


def hammer(monotonic: int, calls: int) -> list[int]:
    """Every distinct shift seen in `calls` reads while the parent rewrites the file."""
    shift = LIBC.logquake_clock_shift_ns
    shift.restype, shift.argtypes = ctypes.c_int64, [ctypes.c_int64]
    return sorted({shift(monotonic) for _ in range(calls)})


def sleeps(seconds: float) -> dict[str, int]:
    """True elapsed nanoseconds of each kind of wait."""
    elapsed = {}
    start = kernel(CLOCK_MONOTONIC)
    time.sleep(seconds)
    elapsed["time.sleep"] = kernel(CLOCK_MONOTONIC) - start

    async def waits() -> None:
        start = kernel(CLOCK_MONOTONIC)
        await asyncio.sleep(seconds)
        elapsed["asyncio.sleep"] = kernel(CLOCK_MONOTONIC) - start
        fired = asyncio.get_running_loop().create_future()
        start = kernel(CLOCK_MONOTONIC)
        asyncio.get_running_loop().call_later(seconds, fired.set_result, None)
        await fired
        elapsed["call_later"] = kernel(CLOCK_MONOTONIC) - start
        start = kernel(CLOCK_MONOTONIC)
        try:
            await asyncio.wait_for(asyncio.Event().wait(), seconds)
        except asyncio.TimeoutError:
            elapsed["asyncio.wait_for"] = kernel(CLOCK_MONOTONIC) - start

    asyncio.run(waits())
    start = kernel(CLOCK_MONOTONIC)
    threading.Event().wait(seconds)
    elapsed["Event.wait"] = kernel(CLOCK_MONOTONIC) - start
    return elapsed


def main() -> None:
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "sample":
            answer: object = sample()
        elif command == "shift":
            answer = shifts([int(value) for value in arguments])
        elif command == "hammer":
            answer = hammer(int(arguments[0]), int(arguments[1]))
        elif command == "sleep":
            answer = sleeps(float(arguments[0]))
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
