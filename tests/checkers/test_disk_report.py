"""What disk faults did, as the results, the report, the timeline and the plots show it.

The nemesis's start ops carry it in their values: corrupt-file names the files it damaged and
how, a power loss names per node the bytes and directory entries its filesystem threw away.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from checkers.faults import COLOURS, OTHER_COLOUR
from checkers.perf import FILES, plot_perf
from checkers.timeline import write_timeline
from logquake.report import write_report
from tests.checkers.histories import TEST, History, busy_history, checked
from tests.checkers.test_durability import NO_FSYNC, POWER_LOSS, lost_to_power_loss, register_lost_to_power_loss
from tests.checkers.test_outputs import Bars, shaded_pixels
from tests.checkers.test_report import verdict

DISK_FAULTS = ("slow-disk", "disk-error", "disk-full", "lose-unsynced", "torn-write", "corrupt-file")
SEGMENT = "queue-0/00000000000000000000.log"
CORRUPTED = [{"node": "b2", "path": SEGMENT, "kind": "closed-segment", "how": "bitflip", "offsets": [17, 4093]},
             {"node": "b2", "path": "queue-0/00000000000000000000.index", "kind": "index", "how": "truncate",
              "bytes": 64}]
LOST = {
    "b1": {"files": [{"path": SEGMENT, "kept_bytes": 4096, "lost_bytes": 1200, "torn_bytes": 0},
                     {"path": "queue-1/00000000000000000000.log", "kept_bytes": 0, "lost_bytes": 300, "torn_bytes": 0}],
           "entries": [{"path": "queue-1", "what": "created"},
                       {"path": "queue-0/leader-epoch-checkpoint", "what": "renamed", "from": "tmp"}]},
    "b3": {"files": [{"path": SEGMENT, "kept_bytes": 5000, "lost_bytes": 0, "torn_bytes": 0}], "entries": []},
}


def disk_history() -> History:
    h = History()
    h.send(0, 0, 10, 0)
    h.op("nemesis", "start-corrupt-file", "one", "ok",
         {"nodes": ["b2"], "action": "corrupt", "corrupted": CORRUPTED})
    h.nemesis("stop-corrupt-file", None, ["b2"])
    h.op("nemesis", "start-torn-write", "all-brokers", "ok",
         {"nodes": ["b1", "b3"], "action": "power loss", "lost": LOST})
    h.nemesis("stop-torn-write", None, ["b1", "b3"])
    h.assign(1, [0])
    h.poll(1, {0: [(0, 10)]})
    return h


def store(run_dir: Path, test: dict[str, Any], events: list[dict[str, Any]]) -> str:
    run_dir.mkdir(parents=True)
    (run_dir / "test.json").write_text(json.dumps(test))
    (run_dir / "results.json").write_text(json.dumps(checked(test, events, run_dir)))
    return write_report(run_dir).read_text()


def test_the_results_say_what_disk_faults_did_to_which_files(tmp_path: Path) -> None:
    disk = checked(TEST, disk_history().events, tmp_path)["disk"]
    assert disk["corrupted"] == [{"fault": "corrupt-file", "op": 3, "time_s": 0.004, **CORRUPTED[0]},
                                 {"fault": "corrupt-file", "op": 3, "time_s": 0.004, **CORRUPTED[1]}]
    [loss] = disk["power_losses"]
    assert (loss["fault"], loss["op"]) == ("torn-write", 7)
    assert {node: (n["files_changed"], n["lost_bytes"], n["torn_bytes"], len(n["entries"]))
            for node, n in loss["nodes"].items()} == {"b1": (2, 1500, 0, 2), "b3": (0, 0, 0, 0)}


def test_a_run_without_disk_faults_has_no_disk_results(tmp_path: Path) -> None:
    h = History()
    h.send(0, 0, 10, 0)
    h.nemesis("start-kill", "one", ["b1"])
    assert "disk" not in checked(TEST, h.events, tmp_path)
    assert "Disk faults" not in store(tmp_path / "run", TEST, h.events)


def test_the_report_lists_corrupted_files_and_what_each_power_loss_threw_away(tmp_path: Path) -> None:
    page = store(tmp_path / "run", TEST, disk_history().events)
    section = page[page.index("<h2>Disk faults</h2>"):]
    assert (f"<tr><td>b2</td><td><code>{SEGMENT}</code></td><td>closed-segment</td><td>bitflip</td><td>bits flipped "
            "at offsets 17, 4093</td><td class='n'>#3</td>") in section
    assert "<td>index</td><td>truncate</td><td>64 bytes cut off the end</td>" in section
    assert "torn-write: op #7 at 0.008 s" in section
    b1 = re.search(r"<tr><td>b1</td>(.*?)</tr>", section, re.S)
    assert b1 and [re.sub(r"<details>.*?</details>", "", cell) for cell in re.findall(r"<td class='n'>(.*?)</td>",
                                                                                      b1[1], re.S)] == \
        ["2", "1500", "0", "2"]
    assert f"<code>{SEGMENT}</code>: kept 4096, lost 1200, torn 0 bytes" in b1[1]
    assert "created <code>queue-1</code>" in b1[1] and "renamed <code>queue-0/leader-epoch-checkpoint</code>" in b1[1]


def with_disk_faults(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """busy_history's kill faults renamed, in turn, to each disk fault."""
    nemesis = [event for event in events if event["process"] == "nemesis"]
    for n, event in enumerate(nemesis):
        event["f"] = event["f"].replace("kill", DISK_FAULTS[n // 4 % len(DISK_FAULTS)])
    return events


def test_every_disk_fault_has_its_own_colour() -> None:
    colours = [COLOURS[fault] for fault in DISK_FAULTS]
    assert len(set(colours) | set(COLOURS.values()) | {OTHER_COLOUR}) == len(COLOURS) + 1
    assert len(set(colours)) == len(DISK_FAULTS)


def test_the_timeline_and_plots_shade_each_disk_fault_in_its_colour(tmp_path: Path) -> None:
    events = with_disk_faults(busy_history(seconds=26, rate=30, fault_every_s=2))
    parser = Bars()
    parser.feed(write_timeline(TEST, events, tmp_path).read_text())
    assert parser.faults == [f"{fault} b2" for fault in DISK_FAULTS]
    text = (tmp_path / "timeline.html").read_text()
    assert all(f"background:{COLOURS[fault]}" in text for fault in DISK_FAULTS)
    plot_perf(TEST, events, tmp_path)
    for fault in DISK_FAULTS:
        assert shaded_pixels(tmp_path / FILES[0], COLOURS[fault]) > 1_000, fault


def test_the_report_says_when_a_violation_is_what_the_configuration_allows(tmp_path: Path) -> None:
    page = store(tmp_path / "register", NO_FSYNC, register_lost_to_power_loss(["k1", "k2", "k3"]))
    assert verdict(page) == ("invalid: INVALID: 1 nonlinearizable, expected by this configuration (acknowledged but "
                             "never fsynced (forceSync=no), all keepers lost power)")
    assert "<li>1 nonlinearizable: expected by this configuration (acknowledged but never fsynced" in page
    assert "forceSync=no, so the keeper acknowledges writes it has not fsynced" in page


def test_the_report_says_which_power_loss_allowed_a_lost_write(tmp_path: Path) -> None:
    page = store(tmp_path / "queue", POWER_LOSS, lost_to_power_loss(["b1", "b2", "b3"]).events)
    assert verdict(page).startswith("valid: VALID: the configuration&#39;s claim held (allowed by the configuration: "
                                    "1 lost-write")
    assert ("<li>1 lost-write: allowed by this configuration (acknowledged but never flushed, all replicas lost power)"
            "</li>") in page
    assert "acknowledged sends are never lost to crashes (acks=all" in page
    assert "allowed: partition 0, offset 1, value 11" in page and "power loss nodes [&#34;b1&#34;" in page
