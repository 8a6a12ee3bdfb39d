"""Jepsen-style history records, and the pairing of each invocation with its completion.

All three file formats describe the same thing: a process invokes `f` with a value, and later the
operation completes as `ok` (it happened, with this result), `fail` (it did not happen) or `info`
(nobody knows). Each format's parser feeds its lines to a Pairing; the result is one JepsenOp per
invocation, which a model encoding then turns into checker Operations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Hashable

from pyporcupine.history import MalformedHistory

COMPLETIONS = ("ok", "fail", "info")


@dataclass(frozen=True, slots=True)
class JepsenOp:
    """One invocation and its completion.

    `return_time` is None when the outcome is unknown and the operation stays open to the end of
    the history. `where` names the invocation's line, for error messages.
    """

    process: Hashable
    f: str
    key: Hashable | None
    value: Any
    type: str
    result: Any
    call: int | float
    return_time: int | float | None
    where: str


class Pairing:
    """Match each process's invocation with its next completion, in file order."""

    def __init__(self) -> None:
        self._ops: list[JepsenOp] = []
        self._open: dict[Hashable, int] = {}

    def invoke(self, where: str, process: Hashable, f: str, key: Hashable | None, value: Any,
               time: int | float) -> None:
        if process in self._open:
            earlier = self._ops[self._open[process]]
            raise MalformedHistory(f"{where}: process {process!r} invokes {f!r} while its invocation "
                                     f"at {earlier.where} is still open")
        self._open[process] = len(self._ops)
        self._ops.append(JepsenOp(process, f, key, value, "info", None, time, None, where))

    def complete(self, where: str, process: Hashable, type: str, f: str, key: Hashable | None,
                 result: Any, time: int | float | None) -> None:
        """Close the process's open invocation; `time=None` leaves it open to the end (unknown)."""
        if type not in COMPLETIONS:
            raise MalformedHistory(f"{where}: unknown completion type {type!r} (expected one of {COMPLETIONS})")
        index = self._open.pop(process, None)
        if index is None:
            raise MalformedHistory(f"{where}: process {process!r} completes {f!r} without an open invocation")
        invoked = self._ops[index]
        if invoked.f != f or (key is not None and invoked.key != key):
            raise MalformedHistory(f"{where}: completion ({f!r}, key {key!r}) does not match the invocation "
                                     f"({invoked.f!r}, key {invoked.key!r}) at {invoked.where}")
        if time is not None and time < invoked.call:
            raise MalformedHistory(f"{where}: completes at time {time}, before its invocation at {invoked.call}")
        self._ops[index] = replace(invoked, type=type, result=result, return_time=time)

    def operations(self) -> list[JepsenOp]:
        """Every invocation in file order; those never completed have an unknown outcome."""
        return list(self._ops)
