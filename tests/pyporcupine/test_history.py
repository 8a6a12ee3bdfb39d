"""Events to operations: positions become times, ids pair calls with returns, and bad pairings are errors."""

from __future__ import annotations

import pytest

from pyporcupine import Event, EventKind, MalformedHistory, Operation
from pyporcupine.history import events_to_operations

CALL, RETURN = EventKind.CALL, EventKind.RETURN


def test_positions_become_times_and_operations_come_in_call_order() -> None:
    events = [
        Event(0, CALL, "a-in", "a"),
        Event(1, CALL, "b-in", "b"),
        Event(1, RETURN, "b-out", "b"),
        Event(0, RETURN, "a-out", "a"),
    ]
    assert events_to_operations(events) == [
        Operation(0, "a-in", 0, "a-out", 3),
        Operation(1, "b-in", 1, "b-out", 2),
    ]


@pytest.mark.parametrize(("events", "message"), [
    ([Event(0, RETURN, None, 1)], "no open call"),
    ([Event(0, CALL, None, 1), Event(0, RETURN, None, 1), Event(0, CALL, None, 1)], "second call"),
    ([Event(0, CALL, None, 1), Event(0, CALL, None, 1)], "second call"),
    ([Event(0, CALL, None, 1)], "without a return event"),
])
def test_bad_pairings_are_errors(events: list[Event], message: str) -> None:
    with pytest.raises(MalformedHistory, match=message):
        events_to_operations(events)
