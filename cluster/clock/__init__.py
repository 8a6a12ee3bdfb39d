"""Per-node wall-clock faults: a preloaded library shifts CLOCK_REALTIME, gettimeofday and time in a
node's processes by what the harness writes to that node's control file; monotonic clocks are
untouched, as in a real clock step.

Layout: control (the file's format, the shift function and its writer) and preload (the library's
path and the environment that loads it); the library itself is native/clock_shift/.
"""

from cluster.clock.control import ClockControl, ClockState
from cluster.clock.preload import CONTROL_ENV, library_path, preload_environment

__all__ = ["CONTROL_ENV", "ClockControl", "ClockState", "library_path", "preload_environment"]
