"""The harness's history format: one JSON object per line.

`{"index": 0, "time": 1200, "process": 3, "type": "invoke", "f": "write", "value": 4}`
- `type` is invoke, ok, fail or info; each process's invoke is paired with its next completion.
- `fail` means the operation did not happen: it is dropped. `info` means its outcome is unknown:
  it stays open to the end of the history (its completion time is not used). An invocation never
  completed is treated the same way.
- `time` (ns, any number) orders events; an optional `key` field names an independent object
  (a register key, a kv key, a topic-partition).
- Records whose `process` is not an integer (the nemesis) are not client operations: skipped.
- JSON lists become tuples, so values stay hashable; blank lines are skipped.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from pyporcupine.formats.records import JepsenOp, Pairing
from pyporcupine.history import MalformedHistory

_TYPES = ("invoke", "ok", "fail", "info")


def parse_jsonl(lines: Iterable[str], name: str = "<history>") -> list[JepsenOp]:
    pairing = Pairing()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        record = _record(where, line)
        process = record["process"]
        if not isinstance(process, int) or isinstance(process, bool):
            continue
        type, f, time = record["type"], record["f"], record["time"]
        key = _freeze(where, record.get("key"))
        value = _freeze(where, record.get("value"))
        if type == "invoke":
            pairing.invoke(where, process, f, key, value, time)
        else:
            pairing.complete(where, process, type, f, key, value, None if type == "info" else time)
    return [op for op in pairing.operations() if op.type != "fail"]


def _record(where: str, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise MalformedHistory(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise MalformedHistory(f"{where}: expected a JSON object, got {type(record).__name__}")
    missing = [field for field in ("process", "type", "f", "time") if field not in record]
    if missing:
        raise MalformedHistory(f"{where}: missing field(s) {', '.join(missing)}")
    if record["type"] not in _TYPES:
        raise MalformedHistory(f"{where}: type must be one of {', '.join(_TYPES)}, not {record['type']!r}")
    if not isinstance(record["f"], str):
        raise MalformedHistory(f"{where}: f must be a string, not {record['f']!r}")
    time = record["time"]
    if not isinstance(time, (int, float)) or isinstance(time, bool):
        raise MalformedHistory(f"{where}: time must be a number, not {time!r}")
    return record


def _freeze(where: str, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(where, item) for item in value)
    if isinstance(value, dict):
        raise MalformedHistory(f"{where}: JSON objects are not supported as values or keys")
    return value
