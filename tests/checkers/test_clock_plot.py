"""The clock plot: each node's offset from the nemesis's clock ops alone, drawn only when a run had clock faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from checkers.clock import FILE, Reading, clock_readings, plot_clock
from checkers.faults import COLOURS
from checkers.perf import PALETTE
from tests.checkers.histories import TEST, History, checked
from tests.checkers.test_outputs import shaded_pixels

TRUE = {"offset_ms": 0.0, "rate": 1.0, "strobe": None}


def _band_pixels(path: Path, colour: str, over: str) -> int:
    """Pixels of a strobe band (alpha 0.3) drawn over its fault's shading (alpha 0.35 on white)."""
    def rgb(hex_colour: str) -> np.ndarray:
        return np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    blended = 0.7 * (0.65 + 0.35 * rgb(over)) + 0.3 * rgb(colour)
    return int(np.all(np.abs(imread(path)[:, :, :3] - blended) < 0.02, axis=2).sum())


def _at(history: History, seconds: float) -> History:
    history.now_ns = int(seconds * 1e9)
    return history


def _clock_op(history: History, f: str, clocks: dict[str, dict[str, Any]], nodes: list[str]) -> None:
    history.op("nemesis", f, nodes, "ok", {"nodes": nodes, "action": f.split("-", 1)[0], "clocks": clocks})


def clock_history() -> History:
    """b1 bumped 10 minutes ahead at 2 s, reset at 6 s; b2 strobing 30 s behind from 8 s; the heal resets both."""
    history = History()
    history.send(0, 0, 1, 0)
    _clock_op(_at(history, 2), "start-clock-bump", {"b1": {**TRUE, "offset_ms": 600_000.0}, "b2": TRUE}, ["b1"])
    _clock_op(_at(history, 6), "stop-clock-bump", {"b1": TRUE, "b2": TRUE}, ["b1"])
    strobe = {"delta_ms": -30_000.0, "period_ms": 10.0, "remaining_ms": None}
    _clock_op(_at(history, 8), "start-clock-strobe", {"b1": TRUE, "b2": {**TRUE, "strobe": strobe}}, ["b2"])
    _at(history, 12).op("nemesis", "heal", None, "ok",
                        [{"fault": "clock", "nodes": ["b1", "b2"], "action": "clock-reset",
                          "clocks": {"b1": TRUE, "b2": TRUE}}])
    _at(history, 14).send(0, 0, 2, 1)
    return history


def test_readings_come_from_every_clock_op_and_the_heal_in_time_order():
    readings = clock_readings(clock_history().events)
    assert list(readings) == ["b1", "b2"]
    assert [(r.time_s, r.offset_ms) for r in readings["b1"]] == [(2.002, 600_000.0), (6.002, 0.0), (8.002, 0.0),
                                                                 (12.002, 0.0)]
    assert readings["b2"][2].strobe == {"delta_ms": -30_000.0, "period_ms": 10.0, "remaining_ms": None}


@pytest.mark.parametrize(("rate", "later_s", "offset_ms"), [(1.0, 5.0, 250.0), (2.0, 1.5, 1750.0), (0.5, 3.0, -1250.0)])
def test_an_offset_drifts_at_its_clocks_rate_until_the_next_reading(rate, later_s, offset_ms):
    assert Reading(1.0, 250.0, rate, None).offset_at(1.0 + later_s) == pytest.approx(offset_ms)


def test_the_plot_draws_each_node_and_the_strobe_and_only_when_clocks_moved(tmp_path: Path):
    with_clocks, without = tmp_path / "clocks", tmp_path / "calm"
    with_clocks.mkdir(), without.mkdir()
    (path,) = plot_clock(TEST, clock_history().events, with_clocks)
    assert path.name == FILE and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shaded_pixels(path, PALETTE[0], alpha=1.0) > 100  # b1's line
    assert _band_pixels(path, PALETTE[1], over=COLOURS["clock-strobe"]) > 1000  # b2's strobe band
    calm = History()
    calm.send(0, 0, 1, 0)
    calm.nemesis("start-kill", "one", ["b1"])
    assert plot_clock(TEST, calm.events, without) == [] and not (without / FILE).exists()


def test_a_checked_run_with_clock_faults_lists_the_clock_plot(tmp_path: Path):
    results = checked(TEST, clock_history().events, tmp_path)
    assert FILE in results["files"] and "errors" not in results
