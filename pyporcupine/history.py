"""The two shapes a history can take: timed operations, or an ordered list of call/return events.

Both are Porcupine's. Operations carry their own times; an operation whose outcome is unknown
(a timeout, a crash) has no return time and is treated as returning after everything else, so it
may take effect anywhere after its call, or never. Events carry no times: their position in the
list is their time, and a call is matched to its return by `id`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Hashable, Sequence


@dataclass(frozen=True, slots=True)
class Operation:
    """One client operation over the closed interval [call, return_time].

    `return_time=None` means the outcome is unknown: the operation stays open to the end of the
    history. Its `output` must then be something the model accepts for any result (the shipped
    models use `pyporcupine.models.UNKNOWN`).
    """

    client_id: int
    input: Any
    call: int | float
    output: Any
    return_time: int | float | None


class EventKind(enum.Enum):
    CALL = "call"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class Event:
    """A call (value = input) or a return (value = output) of the operation named `id`."""

    client_id: int
    kind: EventKind
    value: Any
    id: Hashable


class MalformedHistory(ValueError):
    """A history that cannot describe real operations: unreadable as its format, a return without a call, a
    repeated id..."""


def events_to_operations(events: Sequence[Event]) -> list[Operation]:
    """Pair calls with returns; an event's index in the list is its time.

    Operations come out in the order of their calls, which is the order Porcupine numbers them.
    """
    open_calls: dict[Hashable, tuple[int, Event]] = {}
    finished: dict[Hashable, Operation] = {}
    order: list[Hashable] = []
    for time, event in enumerate(events):
        if event.kind is EventKind.CALL:
            if event.id in open_calls or event.id in finished:
                raise MalformedHistory(f"event {time}: a second call with id {event.id!r}")
            open_calls[event.id] = (time, event)
            order.append(event.id)
        else:
            if event.id not in open_calls:
                raise MalformedHistory(f"event {time}: a return with id {event.id!r} that has no open call")
            call_time, call = open_calls.pop(event.id)
            finished[event.id] = Operation(call.client_id, call.value, call_time, event.value, time)
    if open_calls:
        missing = ", ".join(repr(i) for i in list(open_calls)[:5])
        raise MalformedHistory(f"{len(open_calls)} call(s) without a return event (ids {missing}); "
                           "give unknown outcomes a return event at the end of the list")
    return [finished[i] for i in order]
