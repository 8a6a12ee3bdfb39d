"""One `logquake check` of a stored run, in a process of its own so that its peak memory is its own.

Run as a script (`python benchmarks/_check_child.py RUN_DIR [--no-plots]`) so that PYTHONPATH alone picks
the logquake being measured: this one, or another checkout's. Prints one JSON line: the seconds of every
stage the check logs at debug level (reading, each checker, each drawing, the report), when the verdict was
written, the total, the peak RSS, and the verdict with the workload checker's anomaly counts.
"""

from __future__ import annotations

import inspect
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

from logquake.runner import check_run

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


def main(run_dir: Path, plots: bool) -> dict[str, Any]:
    stages = Stages()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(stages)
        logging.getLogger(name).setLevel(logging.DEBUG)
    options: dict[str, Any] = {} if plots else {"plots": False}
    verdict_at: list[float] = []
    started = time.perf_counter()
    if "on_verdict" in inspect.signature(check_run).parameters:  # an older logquake writes everything at the end
        options["on_verdict"] = lambda _results: verdict_at.append(time.perf_counter() - started)
    results = check_run(run_dir, **options)
    total = time.perf_counter() - started
    anomalies = results.get("queue", {}).get("anomalies", {})
    return {"stages": stages.seconds, "total_s": total, "verdict_s": verdict_at[0] if verdict_at else total,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "valid": results["valid"],
            "anomalies": {name: found["count"] for name, found in anomalies.items() if found["count"]}}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), "--no-plots" not in sys.argv[2:])))
