"""Jepsen's text log of a CAS-register test (Porcupine's etcd test vectors).

Line form: `INFO  jepsen.util - <process> :<type> :<f> <value>`, fields separated by tabs or
spaces. Accepted exactly as Porcupine's parser accepts them:
  :invoke :read nil | :invoke :write N | :invoke :cas [N M]
  :ok :read nil|N   | :ok :write N     | :ok :cas [N M] | :fail :cas [N M]
  :fail :read :timed-out  -> the read returned nothing: unknown result, returned at that line
  :info :<f> <anything>   -> unknown outcome: the operation stays open to the end of the history
A failed CAS is kept as a CAS that returned false (Porcupine's reading). Lines without
`jepsen.util` are not history lines and are skipped; any other `jepsen.util` line is an error.
The time of an event is its position among the history lines.
"""

from __future__ import annotations

import re
from typing import Iterable

from pyporcupine.formats.records import JepsenOp, Pairing
from pyporcupine.history import MalformedHistory

_LINE = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:([\w-]+)\s+(.*?)\s*$")
_INT = re.compile(r"^-?\d+$")
_PAIR = re.compile(r"^\[(-?\d+)\s+(-?\d+)\]$")


def parse_jepsen_log(lines: Iterable[str], name: str = "<history>") -> list[JepsenOp]:
    pairing = Pairing()
    time = 0
    for number, line in enumerate(lines, start=1):
        if "jepsen.util" not in line:
            continue
        where = f"{name}:{number}"
        matched = _LINE.match(line)
        if matched is None:
            raise MalformedHistory(f"{where}: not a Jepsen history line: {line.strip()!r}")
        process, type, f, text = int(matched[1]), matched[2], matched[3], matched[4]
        if type == "invoke":
            pairing.invoke(where, process, f, None, _invocation_value(where, f, text), time)
        elif type == "info":
            pairing.complete(where, process, "info", f, None, None, None)
        elif type == "fail" and f == "read" and text == ":timed-out":
            pairing.complete(where, process, "info", f, None, None, time)
        else:
            pairing.complete(where, process, type, f, None, _completion_value(where, type, f, text), time)
        time += 1
    return pairing.operations()


def _invocation_value(where: str, f: str, text: str) -> object:
    if f == "read" and text == "nil":
        return None
    if f == "write" and _INT.match(text):
        return int(text)
    if f == "cas" and (pair := _PAIR.match(text)):
        return (int(pair[1]), int(pair[2]))
    raise MalformedHistory(f"{where}: cannot read an invocation of {f!r} with value {text!r}")


def _completion_value(where: str, type: str, f: str, text: str) -> object:
    if type == "ok" and f == "read" and (text == "nil" or _INT.match(text)):
        return None if text == "nil" else int(text)
    if type == "ok" and f == "write" and _INT.match(text):
        return int(text)
    if f == "cas" and (pair := _PAIR.match(text)):
        return (int(pair[1]), int(pair[2]))
    raise MalformedHistory(f"{where}: cannot read a :{type} completion of {f!r} with value {text!r}")
