"""EDN-style maps of a per-key string store history (Porcupine's kv test vectors).

Line form: `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}` with :f one of
:get, :put, :append and :value a string or nil. :type is :invoke or :ok as in Porcupine's files;
:fail (did not happen: dropped) and :info (unknown outcome: open to the end) are read with
Jepsen's meaning. A get's :ok line carries the value read. Blank lines are skipped. The time of
an event is its line's position.
"""

from __future__ import annotations

import re
from typing import Iterable

from pyporcupine.formats.records import JepsenOp, Pairing
from pyporcupine.history import MalformedHistory

_STRING = r'"((?:[^"\\]|\\.)*)"'
_LINE = re.compile(r"^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(get|put|append), "
                   rf":key {_STRING}, :value (nil|{_STRING})\}}$")
_ESCAPE = re.compile(r"\\(.)")


def parse_edn_kv(lines: Iterable[str], name: str = "<history>") -> list[JepsenOp]:
    pairing = Pairing()
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        where = f"{name}:{number}"
        matched = _LINE.match(line)
        if matched is None:
            raise MalformedHistory(f"{where}: not a kv history map: {line!r}")
        process, type, f = int(matched[1]), matched[2], matched[3]
        key = _unescape(matched[4])
        value = None if matched[5] == "nil" else _unescape(matched[6])
        if type == "invoke":
            pairing.invoke(where, process, f, key, value, number)
        else:
            pairing.complete(where, process, type, f, key, value, None if type == "info" else number)
    return [op for op in pairing.operations() if op.type != "fail"]


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)
