"""The progress line counts client outcomes and names active faults; the end table lines up."""

from __future__ import annotations

import io

from logquake.progress import Progress, table


def test_status_counts_client_completions_and_shows_faults():
    faults = ["pause b1"]
    progress = Progress(60, lambda: faults, io.StringIO())
    progress.phase = "main"
    for process, type_ in [(0, "invoke"), (0, "ok"), (1, "invoke"), (1, "info"), (2, "invoke"), (2, "fail"),
                           ("nemesis", "invoke"), ("nemesis", "ok")]:
        progress.observe({"process": process, "type": type_, "f": "send"})
    status = progress.status()
    assert status.startswith("[main]") and "of 60s" in status
    assert "ok 1  fail 1  info 1" in status
    assert "3 ops/s" in status
    assert "faults: pause b1" in status
    faults.clear()
    assert "faults: none" in progress.status()
    progress.phase = "final"
    assert progress.status().startswith("[final]") and "of 60s" not in progress.status()


def test_phase_messages_go_to_the_stream():
    stream = io.StringIO()
    progress = Progress(10, list, stream)
    progress.say("healing every fault")
    progress.start()
    progress.stop()
    assert stream.getvalue() == "healing every fault\n"


def test_table_aligns_columns():
    assert table(["op", "ok"], [["send", 1200], ["poll", 3]]).splitlines() == [
        "op       ok", "----  -----", "send  1,200", "poll      3"]
