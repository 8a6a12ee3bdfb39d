"""The perf plots and the timeline: files a person reads, checked for what they must show."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from checkers.faults import COLOURS
from checkers.perf import FILES, plot_perf
from checkers.timeline import write_timeline
from tests.checkers.histories import TEST, History, busy_history


def shaded_pixels(path: Path, colour: str, alpha: float = 0.35) -> int:
    """Pixels showing the fault colour blended over white, as the plots shade fault intervals."""
    rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    blended = 1 - alpha + alpha * rgb
    image = imread(path)[:, :, :3]
    return int(np.all(np.abs(image - blended) < 0.02, axis=2).sum())


def test_plots_are_written_with_fault_intervals_shaded(tmp_path: Path) -> None:
    with_faults, without = tmp_path / "faults", tmp_path / "calm"
    with_faults.mkdir(), without.mkdir()
    history = busy_history(seconds=12, rate=50, fault_every_s=4)
    paths = plot_perf(TEST, history, with_faults)
    assert [p.name for p in paths] == list(FILES)
    calm = [e for e in busy_history(seconds=12, rate=50, fault_every_s=4) if e["process"] != "nemesis"]
    for i, event in enumerate(calm):
        event["index"] = i
    plot_perf(TEST, calm, without)
    for file in FILES:
        assert (with_faults / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shaded_pixels(with_faults / file, COLOURS["kill"]) > 10_000, file
        assert shaded_pixels(without / file, COLOURS["kill"]) == 0, file


def test_plots_of_an_empty_history_still_exist(tmp_path: Path) -> None:
    assert all(p.stat().st_size > 0 for p in plot_perf(TEST, [], tmp_path))


class Bars(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bars: list[dict[str, str]] = []
        self.faults: list[str] = []
        self.in_fault_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = attributes.get("class", "").split()
        if "op" in classes:
            self.bars.append(attributes)
        self.in_fault_label = "faultlabel" in classes

    def handle_data(self, data: str) -> None:
        if self.in_fault_label:
            self.faults.append(data)
            self.in_fault_label = False


def test_the_timeline_has_a_bar_per_op_with_its_outcome_and_details(tmp_path: Path) -> None:
    h = History()
    h.send(0, 0, 1, 0)
    h.send(0, 0, 2, type="fail")
    h.send(0, 0, 3, type="info")
    h.nemesis("start-pause", "one", ["b1"])
    h.poll(1, {0: [(0, "<script>alert(1)</script>")]})
    h.send(2, 1, 4, type=None)
    path = write_timeline(TEST, h.events, tmp_path)
    text = path.read_text()
    assert "<script>alert" not in text
    parser = Bars()
    parser.feed(text)
    assert [bar["class"] for bar in parser.bars] == ["op ok", "op ok", "op fail", "op info", "op ok", "op open"]
    assert parser.faults == ["pause b1"]
    poll = parser.bars[4]["title"]
    assert "process 1 poll" in poll and "<script>alert(1)</script>" in poll and "latency 1.0 ms" in poll
    assert "never completed" in parser.bars[5]["title"]
    assert "error: something went wrong" in parser.bars[2]["title"]


def test_timeline_lanes_put_the_nemesis_first_then_processes_in_order(tmp_path: Path) -> None:
    h = History()
    for process in (10, 2, "nemesis", 1):
        h.op(process, "poll", None, "ok", {})
    text = write_timeline(TEST, h.events, tmp_path).read_text()
    labels = [text.index(f">{name}</div>") for name in ("nemesis", "process 1", "process 2", "process 10")]
    assert labels == sorted(labels)
