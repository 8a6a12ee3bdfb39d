"""Reading history files: the three formats, their encodings for each model, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyporcupine import CheckResult, Operation, check_operations
from pyporcupine.formats import load_history
from pyporcupine.history import MalformedHistory
from pyporcupine.models import UNKNOWN, CasRegisterModel, Independent, KvModel, LogModel, RegisterModel


def write_file(tmp_path: Path, lines: list[str], name: str = "history") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def jsonl(tmp_path: Path, records: list[dict]) -> Path:
    return write_file(tmp_path, [json.dumps(r) for r in records], "history.jsonl")


def jepsen(process: int, type: str, f: str, value: str) -> str:
    return f"INFO  jepsen.util - {process}\t:{type}\t:{f}\t{value}"


def test_jepsen_log_reads_invocations_completions_and_unknown_outcomes(tmp_path: Path) -> None:
    path = write_file(tmp_path, [
        jepsen(0, "invoke", "write", "3"),
        jepsen(1, "invoke", "cas", "[3 4]"),
        jepsen(0, "ok", "write", "3"),
        jepsen(1, "fail", "cas", "[3 4]"),
        jepsen(2, "invoke", "read", "nil"),
        "INFO  jepsen.util - 2   :ok     :read   3",
        jepsen(3, "invoke", "write", "1"),
        jepsen(3, "info", "write", ":timed-out"),
        jepsen(4, "invoke", "read", "nil"),
        jepsen(4, "fail", "read", ":timed-out"),
        "some other logger line",
    ])
    model, history = load_history(path, "jepsen-log", "cas-register")
    assert isinstance(model, CasRegisterModel)
    assert history == [
        Operation(0, ("write", 3), 0, None, 2),
        Operation(1, ("cas", 3, 4), 1, False, 3),
        Operation(2, ("read",), 4, 3, 5),
        Operation(3, ("write", 1), 6, UNKNOWN, None),
    ]


def test_jepsen_log_rejects_lines_it_cannot_read(tmp_path: Path) -> None:
    path = write_file(tmp_path, [jepsen(0, "invoke", "write", "3"), jepsen(0, "ok", "write", "three")])
    with pytest.raises(MalformedHistory, match=r"history:2: cannot read a :ok completion of 'write'"):
        load_history(path, "jepsen-log", "cas-register")
    with pytest.raises(MalformedHistory, match="has no operation 'cas'"):
        load_history(write_file(tmp_path, [jepsen(0, "invoke", "cas", "[1 2]")]), "jepsen-log", "register")


def test_edn_kv_reads_maps_with_keys_and_escaped_strings(tmp_path: Path) -> None:
    path = write_file(tmp_path, [
        '{:process 0, :type :invoke, :f :append, :key "0", :value "x \\"q\\" y"}',
        '{:process 1, :type :invoke, :f :get, :key "0", :value nil}',
        '{:process 0, :type :ok, :f :append, :key "0", :value "x \\"q\\" y"}',
        '{:process 1, :type :ok, :f :get, :key "0", :value ""}',
    ])
    model, history = load_history(path, "edn-kv", "kv")
    assert isinstance(model, KvModel)
    assert history == [
        Operation(0, ("append", "0", 'x "q" y'), 1, None, 3),
        Operation(1, ("get", "0"), 2, "", 4),
    ]


def test_edn_kv_rejects_other_shapes(tmp_path: Path) -> None:
    path = write_file(tmp_path, ['{:process 0, :type :invoke, :f :cas, :key "0", :value nil}'])
    with pytest.raises(MalformedHistory, match="history:1: not a kv history map"):
        load_history(path, "edn-kv", "kv")


def test_jsonl_pairs_each_process_and_drops_failures(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [
        {"index": 0, "time": 10, "process": 0, "type": "invoke", "f": "write", "value": 1},
        {"index": 1, "time": 11, "process": 1, "type": "invoke", "f": "cas", "value": [1, 2]},
        {"index": 2, "time": 12, "process": "nemesis", "type": "info", "f": "start-partition"},
        {"index": 3, "time": 13, "process": 0, "type": "ok", "f": "write", "value": 1},
        {"index": 4, "time": 14, "process": 1, "type": "fail", "f": "cas", "value": [1, 2], "error": "conflict"},
        {"index": 5, "time": 15, "process": 2, "type": "invoke", "f": "cas", "value": [1, 3]},
        {"index": 6, "time": 16, "process": 2, "type": "info", "f": "cas", "value": [1, 3]},
        {"index": 7, "time": 17, "process": 3, "type": "invoke", "f": "read", "value": None},
        {"index": 8, "time": 18, "process": 3, "type": "info", "f": "read", "value": None},
        {"index": 9, "time": 19, "process": 4, "type": "invoke", "f": "read", "value": None},
        {"index": 10, "time": 20, "process": 4, "type": "ok", "f": "read", "value": 3},
        {"index": 11, "time": 21, "process": 5, "type": "invoke", "f": "write", "value": 7},
    ])
    model, history = load_history(path, "jsonl", "cas-register")
    assert history == [
        Operation(0, ("write", 1), 10, None, 13),
        Operation(2, ("cas", 1, 3), 15, UNKNOWN, None),
        Operation(4, ("read",), 19, 3, 20),
        Operation(5, ("write", 7), 21, UNKNOWN, None),
    ]
    assert check_operations(model, history) is CheckResult.OK


def test_jsonl_with_keys_checks_independent_registers(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [
        {"time": 1, "process": 0, "type": "invoke", "f": "write", "key": "a", "value": 1},
        {"time": 2, "process": 0, "type": "ok", "f": "write", "key": "a", "value": 1},
        {"time": 3, "process": 1, "type": "invoke", "f": "read", "key": "b", "value": None},
        {"time": 4, "process": 1, "type": "ok", "f": "read", "key": "b", "value": None},
    ])
    model, history = load_history(path, "jsonl", "register")
    assert isinstance(model, Independent) and isinstance(model.model, RegisterModel)
    assert [op.input for op in history] == [("a", ("write", 1)), ("b", ("read",))]
    assert check_operations(model, history) is CheckResult.OK


def test_jsonl_log_appends_return_offsets_and_reads_take_one(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [
        {"time": 1, "process": 0, "type": "invoke", "f": "append", "key": "t-0", "value": "m1"},
        {"time": 2, "process": 0, "type": "ok", "f": "append", "key": "t-0", "value": 0},
        {"time": 3, "process": 1, "type": "invoke", "f": "read", "key": "t-0", "value": 0},
        {"time": 4, "process": 1, "type": "ok", "f": "read", "key": "t-0", "value": "m1"},
        {"time": 5, "process": 1, "type": "invoke", "f": "read", "key": "t-0", "value": 1},
        {"time": 6, "process": 1, "type": "ok", "f": "read", "key": "t-0", "value": None},
    ])
    model, history = load_history(path, "jsonl", "log")
    assert isinstance(model, LogModel)
    assert [(op.input, op.output) for op in history] == [
        (("append", "t-0", "m1"), 0), (("read", "t-0", 0), "m1"), (("read", "t-0", 1), None)]
    assert check_operations(model, history) is CheckResult.OK


@pytest.mark.parametrize(("lines", "message"), [
    (["{not json"], r"history.jsonl:1: not JSON"),
    (["[1, 2]"], "expected a JSON object"),
    (['{"time": 1, "process": 0, "f": "read"}'], "missing field"),
    (['{"time": 1, "process": 0, "type": "done", "f": "read"}'], "type must be one of"),
    (['{"time": "soon", "process": 0, "type": "invoke", "f": "read"}'], "time must be a number"),
    (['{"time": 1, "process": 0, "type": "ok", "f": "read", "value": 1}'], "without an open invocation"),
    (['{"time": 1, "process": 0, "type": "invoke", "f": "read"}',
      '{"time": 2, "process": 0, "type": "invoke", "f": "read"}'], "still open"),
    (['{"time": 1, "process": 0, "type": "invoke", "f": "read"}',
      '{"time": 2, "process": 0, "type": "ok", "f": "write", "value": 1}'], "does not match the invocation"),
    (['{"time": 5, "process": 0, "type": "invoke", "f": "read"}',
      '{"time": 2, "process": 0, "type": "ok", "f": "read", "value": 1}'], "before its invocation"),
    (['{"time": 1, "process": 0, "type": "invoke", "f": "cas", "value": 3}',
      '{"time": 2, "process": 0, "type": "ok", "f": "cas", "value": 3}'], r"cas value must be \[expected, new\]"),
    (['{"time": 1, "process": 0, "type": "invoke", "f": "write", "value": {"a": 1}}'], "JSON objects"),
    (['{"time": 1, "process": 0, "type": "invoke", "f": "write", "key": "a", "value": 1}',
      '{"time": 1, "process": 1, "type": "invoke", "f": "write", "value": 1}'], "without a key"),
    ([], "no operations found"),
])
def test_jsonl_errors_say_what_and_where(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write_file(tmp_path, lines, "history.jsonl")
    with pytest.raises(MalformedHistory, match=message):
        load_history(path, "jsonl", "cas-register")


def test_jsonl_kv_needs_keys_and_log_needs_offsets(tmp_path: Path) -> None:
    no_key = jsonl(tmp_path, [{"time": 1, "process": 0, "type": "invoke", "f": "get"}])
    with pytest.raises(MalformedHistory, match="a kv operation needs a key"):
        load_history(no_key, "jsonl", "kv")
    bad_offset = jsonl(tmp_path, [
        {"time": 1, "process": 0, "type": "invoke", "f": "append", "value": "m"},
        {"time": 2, "process": 0, "type": "ok", "f": "append", "value": -1},
    ])
    with pytest.raises(MalformedHistory, match="its offset"):
        load_history(bad_offset, "jsonl", "log")


def test_an_unreadable_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(MalformedHistory, match="cannot read"):
        load_history(tmp_path / "missing.jsonl", "jsonl", "kv")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(MalformedHistory, match="cannot read"):
        load_history(binary, "jsonl", "kv")
