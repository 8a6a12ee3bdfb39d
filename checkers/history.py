"""Pairs a history's invocations with their completions, the unit every checker reasons about.

A history interleaves many processes; each process has at most one operation in flight, so an
invoke is completed by the next op of the same process. An invoke that never completed (the run
was interrupted) is treated as "info": it may or may not have happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OUTCOMES = ("ok", "fail", "info")
NEMESIS = "nemesis"


class HistoryError(ValueError):
    """The history breaks the shape every checker relies on; the message names the op."""


@dataclass(frozen=True)
class Op:
    """One operation: its invocation and its completion (None when the history ends first)."""

    invoke: dict[str, Any]
    completion: dict[str, Any] | None

    @property
    def process(self) -> Any:
        return self.invoke["process"]

    @property
    def f(self) -> str:
        return self.invoke["f"]

    @property
    def type(self) -> str:
        return "info" if self.completion is None else self.completion["type"]

    @property
    def index(self) -> int:
        """The completion's index (where the result is), or the invoke's when there is none."""
        return (self.completion or self.invoke)["index"]

    @property
    def start(self) -> int:
        return self.invoke["time"]

    @property
    def end(self) -> int | None:
        return None if self.completion is None else self.completion["time"]

    @property
    def error(self) -> str | None:
        return None if self.completion is None else self.completion.get("error")

    def ref(self) -> dict[str, Any]:
        """A short reference for anomaly examples and reports."""
        return {"index": self.index, "process": self.process, "f": self.f, "type": self.type}


def pair(history: list[dict[str, Any]]) -> list[Op]:
    """Ops in invocation order. Raises HistoryError on a completion without a matching invoke."""
    pending: dict[Any, dict[str, Any]] = {}
    ops: dict[int, Op] = {}
    for position, event in enumerate(history):
        _check_event(position, event)
        process = event["process"]
        if event["type"] == "invoke":
            if process in pending:
                raise HistoryError(f"op {event['index']}: process {process} invokes while op "
                                   f"{pending[process]['index']} is still in flight")
            pending[process] = event
            continue
        invoke = pending.pop(process, None)
        if invoke is None:
            raise HistoryError(f"op {event['index']}: {event['type']} of process {process} completes nothing")
        if invoke["f"] != event["f"]:
            raise HistoryError(f"op {event['index']}: completes f={event['f']!r} but process {process} "
                               f"invoked f={invoke['f']!r} (op {invoke['index']})")
        ops[invoke["index"]] = Op(invoke, event)
    for invoke in pending.values():
        ops[invoke["index"]] = Op(invoke, None)
    return [ops[index] for index in sorted(ops)]


def _check_event(position: int, event: Any) -> None:
    if not isinstance(event, dict):
        raise HistoryError(f"history entry {position} is not an object: {event!r:.80}")
    missing = [key for key in ("index", "time", "process", "type", "f") if key not in event]
    if missing:
        raise HistoryError(f"history entry {position} lacks {', '.join(missing)}")
    if event["type"] not in ("invoke", *OUTCOMES):
        raise HistoryError(f"op {event['index']}: unknown type {event['type']!r}")
