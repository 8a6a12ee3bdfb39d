"""One `logquake check` of a stored run, in a process of its own so that its peak memory is its own.

Run as a script (`python benchmarks/_check_child.py RUN_DIR [--no-plots]`) so that PYTHONPATH alone picks
the logquake being measured: this one, or another checkout's. The command runs as `python -m logquake
check` would (it is a program here, not a library), with its output captured: the verdict counts as
in when the terminal shows it. Prints one JSON line: the seconds of every stage the check logs at debug
level (reading, each checker, each drawing, the report), when the verdict was printed, the total, the
CPU seconds the process used (which another process's load moves much less than the wall clock), the peak RSS, the exit code, and the verdict with the workload checker's anomaly counts from results.json.
"""

from __future__ import annotations

import io
import json
import logging
import resource
import runpy
import sys
import time
from pathlib import Path
from typing import Any

STAGE_MESSAGE = "check stage %s took %.3f s"
LOGGERS = ("checkers.compose", "logquake.runner")


class Stages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == STAGE_MESSAGE:
            name, seconds = record.args  # type: ignore[misc]
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds


class Terminal(io.StringIO):
    """The command's output; notes when the verdict line appears."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started
        self.verdict_at: float | None = None

    def write(self, text: str) -> int:
        if self.verdict_at is None and "verdict:" in text:
            self.verdict_at = time.perf_counter() - self.started
        return super().write(text)


def main(run_dir: Path, options: list[str]) -> dict[str, Any]:
    stages = Stages()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(stages)
        logging.getLogger(name).setLevel(logging.DEBUG)
    started = time.perf_counter()
    terminal, real_stdout = Terminal(started), sys.stdout
    sys.argv, sys.stdout = ["logquake", "check", *options, str(run_dir)], terminal
    try:
        runpy.run_module("logquake", run_name="__main__")
        code: Any = 0
    except SystemExit as done:
        code = done.code
    finally:
        sys.stdout = real_stdout
    total = time.perf_counter() - started
    results = json.loads((run_dir / "results.json").read_text())
    anomalies = results.get("queue", {}).get("anomalies", {})
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"stages": stages.seconds, "total_s": total, "verdict_s": terminal.verdict_at or total,
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024, "exit_code": code,
            "valid": results["valid"],
            "anomalies": {name: found["count"] for name, found in anomalies.items() if found["count"]}}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2:])))
