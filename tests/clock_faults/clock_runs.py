"""What every clock-fault run must show besides its verdict: each fault acted on each tier it was aimed at, every
op of it carried every node's clock, the clock plot was drawn, and nothing of the run is left, control files
included."""

from __future__ import annotations

from typing import Any

from tests.e2e.runs import WatchedRun, leftovers


def started_clock_faults(watched: WatchedRun) -> list[tuple[str, tuple[str, ...]]]:
    """(fault, nodes) of every clock fault the run started."""
    return [(op["f"].removeprefix("start-"), tuple(op["value"]["nodes"])) for op in watched.history()
            if op["process"] == "nemesis" and op["type"] == "ok" and op["f"].startswith("start-clock-")]


def check_clock_run(watched: WatchedRun, node_names: set[str]) -> None:
    clock_ops: list[dict[str, Any]] = [op for op in watched.history() if op["process"] == "nemesis"
                                       and op["type"] == "ok" and op["f"].startswith(("start-clock-", "stop-clock-"))]
    assert clock_ops and all(set(op["value"]["clocks"]) == node_names for op in clock_ops)
    assert all(op["value"]["clocks"][name]["offset_ms"] == 0 for op in clock_ops if op["f"].startswith("stop-")
               for name in op["value"]["nodes"])
    assert (watched.run_dir / "clock.png").stat().st_size > 0
    assert not leftovers(watched)
    assert not list(watched.run_dir.glob("cluster/*/clock")), "control files outlived the run"
