"""A history loaded as `logquake check` loads it (harness.history.load_history: parsed once, paired once,
compact) gives every checker what the events themselves give: the same ops, the same events back, and
the same verdict and results; and what it holds grows with the history no faster than linearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.queue import ANOMALIES
from harness.history import HistoryError, HistoryWriter, load_history, pair, read_history
from tests.checkers.histories import TEST, stored, verdict
from tests.checkers.test_queue_properties import inject, simulate

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
ops = st.tuples(st.integers(0, 5) | st.just("nemesis"), st.sampled_from(["send", "poll", "start-kill"]),
                json_values, st.sampled_from(["ok", "fail", "info", None]), json_values,
                st.none() | st.text(max_size=10))


@settings(max_examples=60, deadline=None)
@given(st.lists(ops, max_size=20))
def test_a_loaded_history_has_the_ops_and_events_of_the_file(tmp_path_factory, written):
    """Any values (big integers, floats, nested lists and objects) and ops still in flight at the end."""
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    writer = HistoryWriter(path)
    in_flight: set[object] = set()
    for process, f, asked, outcome, result, error in written:
        if process in in_flight:
            continue
        writer.append(process, "invoke", f, asked)
        if outcome is None:
            in_flight.add(process)
        else:
            writer.append(process, outcome, f, result, error)
    writer.close()
    events = read_history(path)
    loaded = load_history(path)
    assert loaded.ops == pair(events)
    assert list(loaded) == events and len(loaded) == len(events)
    assert [(op.invoke, op.completion) for op in loaded.ops] == [(op.invoke, op.completion) for op in pair(events)]


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from([None, *ANOMALIES]))
def test_a_loaded_queue_history_gets_the_verdict_and_results_of_its_events(tmp_path_factory, data, anomaly):
    sim = simulate(data.draw)
    if anomaly is not None:
        inject(sim, anomaly)
    if data.draw(st.booleans(), label="final reads"):
        sim.final_reads()
    events = sim.history.events
    out_dir = tmp_path_factory.mktemp("checked")
    test = {**TEST, "nemesis": ["kill"]}
    assert verdict(test, stored(events, out_dir / "stored"), out_dir / "stored") == \
        verdict(test, events, out_dir / "listed")


MEASURE = """
import json, resource, sys
from pathlib import Path
from benchmarks._queue_history import write_run
from harness.history import collector_paused, load_history
from checkers.queue import check_queue
run = write_run(Path(sys.argv[1]), int(sys.argv[2]), None)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with collector_paused():
    result = check_queue(json.loads((run / "test.json").read_text()), load_history(run / "history.jsonl"))
print(json.dumps({"kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, "valid": result["valid"]}))
"""


def peak_kib(tmp_path: Path, ops: int) -> int:
    """The growth of a fresh process's peak RSS while it loads and queue-checks a synthetic run of `ops`."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / str(ops)), str(ops)], check=True,
                          capture_output=True, text=True)
    figures = json.loads(done.stdout)
    assert figures["valid"] is True
    return figures["kib"]


def test_memory_of_a_check_grows_linearly_and_stays_compact(tmp_path):
    """The bound of issue 18 (1 GiB at a million ops) as a rate: at most 1 KiB an op, measured at 20,000 and
    80,000 ops, and four times the ops costs at most five times the memory."""
    small, large = peak_kib(tmp_path, 20_000), peak_kib(tmp_path, 80_000)
    assert large <= 80_000, f"{large} KiB for 80,000 ops: more than 1 KiB an op"
    assert large <= 5 * max(small, 1), f"{small} KiB for 20,000 ops, {large} KiB for 80,000"


def written_history(path: Path) -> list[str]:
    writer = HistoryWriter(path)
    writer.append(0, "invoke", "poll", None)
    writer.append(0, "ok", "poll", {"0": [[0, 1]]})
    writer.append(1, "invoke", "send", {"partition": 0, "value": 2})
    writer.close()
    return path.read_text().splitlines(keepends=True)


def test_a_loaded_history_drops_a_torn_last_line(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = written_history(path)
    path.write_text("".join(lines[:-1]) + lines[-1][:20])
    loaded = load_history(path)
    assert [(op.f, op.type, op.value) for op in loaded.ops] == [("poll", "ok", {"0": [[0, 1]]})]


def test_damage_before_the_last_line_of_a_loaded_history_is_an_error(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = written_history(path)
    path.write_text(lines[0] + lines[1][:15] + "\n" + lines[2])
    with pytest.raises(HistoryError, match="line 2: not JSON"):
        load_history(path)


def test_damage_is_an_error_even_after_events_that_do_not_pair(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = written_history(path)
    path.write_text(lines[1] + lines[0] + "{\"index\"\n" + lines[2])
    with pytest.raises(HistoryError, match="line 3: not JSON"):
        load_history(path)


def test_events_that_do_not_pair_are_each_pairing_checkers_error(tmp_path):
    path = tmp_path / "history.jsonl"
    lines = written_history(path)
    path.write_text(lines[1] + lines[2])
    loaded = load_history(path)
    for _ in range(2):
        with pytest.raises(HistoryError, match="op 1: ok of process 0 completes nothing"):
            pair(loaded)
