"""The plots and the timeline stay bounded at any size and still show where a run went wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import checkers.perf as perf
from checkers.sampling import stratified_sample
from checkers.timeline import DETAIL_CAP, DETAILED_UP_TO, write_timeline
from checkers.timeline_summary import around_trouble
from harness.history import NEMESIS, pair
from tests.checkers.histories import TEST, History, busy_history
from tests.checkers.test_outputs import Bars


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1_000, allow_nan=False), max_size=3_000), st.integers(1, 1_500), st.integers(0, 9))
def test_a_sample_is_capped_seeded_and_leaves_no_stretch_of_time_empty(times: list[float], cap: int,
                                                                        seed: int) -> None:
    values = np.array(sorted(times))
    chosen = stratified_sample(values, cap, seed)
    assert len(chosen) == min(cap, len(values))
    assert list(chosen) == sorted(set(chosen.tolist()))
    assert np.array_equal(chosen, stratified_sample(values, cap, seed))
    if len(values) > cap >= 50:
        strata = np.linspace(values.min(), values.max(), 51)
        occupied = np.histogram(values, strata)[0] > 0
        assert np.all(np.histogram(values[chosen], strata)[0][occupied] > 0)


def scattered(history: list[dict], caps: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> tuple[set, str, Axes]:
    """The (start s, latency ms) points of the latency scatter, its title and its axes."""
    monkeypatch.setattr(perf, "RAW_OK_CAP", caps[0])
    monkeypatch.setattr(perf, "RAW_FAILED_CAP", caps[1])
    client = [op for op in pair(history) if op.process != NEMESIS]
    fs = sorted({op.f for op in client})
    ax = Figure().add_subplot()
    drew, title = perf.latency_raw(ax, perf.Completed.of(client, fs), fs)
    assert drew
    points = {tuple(point) for collection in ax.collections for point in collection.get_offsets().tolist()}
    return points, title, ax


def failed_points(history: list[dict]) -> set[tuple[float, float]]:
    return {(op.start / 1e9, max((op.end - op.start) / 1e6, 1e-3)) for op in pair(history)
            if op.process != NEMESIS and op.type != "ok" and op.end is not None}


def test_the_latency_scatter_samples_ok_ops_keeps_every_failed_one_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    history = busy_history(seconds=20, rate=400)
    completed = sum(1 for op in pair(history) if op.process != NEMESIS and op.end is not None)
    failed = failed_points(history)
    assert failed
    points, title, ax = scattered(history, (500, 10_000), monkeypatch)
    assert failed <= points
    assert len(points) <= 500 + 25 * 3 + len(failed)
    assert "assign ok" in ax.get_legend_handles_labels()[1]
    assert f"latency of {len(points):,} of {completed:,} operations" in title
    assert "every fail and info op kept" in title
    assert any(re.search(r"\n[\d,]+ of [\d,]+$", label) for label in ax.get_legend_handles_labels()[1])


def test_failed_ops_are_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    h = History()
    for value in range(300):
        h.send(value % 3, 0, value, type="fail")
    points, title, _ = scattered(h.events, (10, 40), monkeypatch)
    assert len(points) == 40
    assert "fail and info ops sampled too" in title


def test_a_small_latency_scatter_draws_every_op(monkeypatch: pytest.MonkeyPatch) -> None:
    history = busy_history(seconds=2, rate=100)
    points, title, _ = scattered(history, (perf.RAW_OK_CAP, perf.RAW_FAILED_CAP), monkeypatch)
    assert title == "latency of every operation"
    assert len(points) == sum(1 for op in pair(history) if op.process != NEMESIS and op.end is not None)


def test_a_small_timeline_draws_every_op(tmp_path: Path) -> None:
    history = busy_history(seconds=3, rate=80, fault_every_s=1)
    ops = pair(history)
    assert 100 < len(ops) <= DETAILED_UP_TO
    parser = Bars()
    parser.feed(write_timeline(TEST, history, tmp_path).read_text())
    drawn = [int(re.match(r"op (\d+):", bar["title"]).group(1)) for bar in parser.bars]
    assert sorted(drawn) == sorted(op.invoke["index"] for op in ops)
    assert "class='cell" not in (tmp_path / "timeline.html").read_text()


def test_a_large_timeline_is_a_few_mb_counts_every_op_and_draws_every_failed_one(tmp_path: Path) -> None:
    history = busy_history(seconds=450, rate=1_000)
    ops = pair(history)
    assert len(ops) > 200_000
    path = write_timeline(TEST, history, tmp_path)
    text = path.read_text()
    assert path.stat().st_size < 5_000_000
    counted = sum(int(n) for n in re.findall(r"(\d+) (?:ok|fail|info)(?:, |')", text))
    assert counted == sum(1 for op in ops if op.process != NEMESIS)
    parser = Bars()
    parser.feed(text)
    drawn = {int(re.match(r"op (\d+):", bar["title"]).group(1)) for bar in parser.bars}
    failed = {op.invoke["index"] for op in ops if op.process != NEMESIS and op.type != "ok"}
    assert failed <= drawn
    assert len(drawn) <= DETAIL_CAP + sum(1 for op in ops if op.process == NEMESIS)
    assert f"{len(ops):,} operations are more than the {DETAILED_UP_TO:,} drawn one by one" in text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ok", "ok", "ok", "fail", "info", "start-kill"]), max_size=300),
       st.integers(1, 60), st.integers(0, 4))
def test_ops_around_trouble_are_capped_in_order_and_anchored_on_every_failure_that_fits(
        kinds: list[str], cap: int, context: int) -> None:
    h = History()
    for kind in kinds:
        if kind == "start-kill":
            h.nemesis(kind, "one", ["b1"])
        else:
            h.send(0, 0, 1, 0 if kind == "ok" else None, type=kind)
    ops = pair(h.events)
    chosen = around_trouble(ops, cap, context)
    assert len(chosen) <= cap
    assert all(op.process != NEMESIS for op in chosen)
    assert [op.start for op in chosen] == sorted({op.start for op in chosen})
    failed = [op for op in ops if op.process != NEMESIS and op.type != "ok"]
    faults = sum(1 for op in ops if op.process == NEMESIS)
    if len(failed) + faults <= cap:
        assert set(map(id, failed)) <= set(map(id, chosen))
