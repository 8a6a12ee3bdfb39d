"""The history file: streamed, numbered, timed, readable after a crash mid-write."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.history import HistoryError, HistoryWriter, read_history

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
ops = st.tuples(
    st.integers(0, 20) | st.just("nemesis"),
    st.sampled_from(["invoke", "ok", "fail", "info"]),
    st.sampled_from(["send", "poll", "start-pause"]),
    json_values,
    st.none() | st.text(max_size=10),
)


@settings(max_examples=50)
@given(st.lists(ops, max_size=30))
def test_written_ops_read_back_in_order(tmp_path_factory, written):
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    writer = HistoryWriter(path)
    returned = [writer.append(*op) for op in written]
    # Readable while the writer is still open: every op is flushed as it happens.
    assert read_history(path) == returned
    writer.close()
    history = read_history(path)
    assert [op["index"] for op in history] == list(range(len(written)))
    times = [op["time"] for op in history]
    assert times == sorted(times) and all(t >= 0 for t in times)
    for op, (process, type_, f, value, error) in zip(history, written):
        assert (op["process"], op["type"], op["f"], op["value"], op.get("error")) == (process, type_, f, value, error)


@settings(max_examples=50)
@given(st.lists(ops, min_size=1, max_size=10), st.data())
def test_a_torn_last_line_is_dropped(tmp_path_factory, written, data):
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    writer = HistoryWriter(path)
    for op in written:
        writer.append(*op)
    writer.close()
    text = path.read_text()
    last_line_start = text.rstrip("\n").rfind("\n") + 1
    # The text's length varies with the times written, so the draw must not depend on it (hypothesis replays).
    cut = last_line_start + data.draw(st.integers(0, 10**6)) % (len(text) - 1 - last_line_start)
    path.write_text(text[:cut])
    assert read_history(path) == [json.loads(line) for line in text.splitlines()[:-1]]


def test_damage_before_the_last_line_is_an_error(tmp_path):
    path = tmp_path / "history.jsonl"
    writer = HistoryWriter(path)
    writer.append(0, "invoke", "poll", None)
    writer.append(0, "ok", "poll", {})
    writer.close()
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0][:10] + "\n" + lines[1])
    with pytest.raises(HistoryError, match="line 1"):
        read_history(path)


def test_unknown_op_type_is_refused(tmp_path):
    writer = HistoryWriter(tmp_path / "history.jsonl")
    with pytest.raises(ValueError):
        writer.append(0, "done", "poll", None)


def test_concurrent_writers_get_distinct_ordered_indexes(tmp_path):
    path = tmp_path / "history.jsonl"
    writer = HistoryWriter(path)

    def work(process: int) -> None:
        for _ in range(200):
            writer.append(process, "invoke", "send", process)

    threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    history = read_history(path)
    assert [op["index"] for op in history] == list(range(800))
    assert [op["time"] for op in history] == sorted(op["time"] for op in history)


def test_listeners_see_every_op(tmp_path):
    writer = HistoryWriter(tmp_path / "history.jsonl")
    seen = []
    writer.subscribe(seen.append)
    op = writer.append("nemesis", "invoke", "start-pause", "one")
    assert seen == [op]
