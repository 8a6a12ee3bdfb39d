"""Reading a pipelined batch's answers back in order, against what each frame expects.

Shared by both protocols: each framed case has an expectation (must be answered, may go
unanswered, may be answered in a way no reader can tell from a server-sent event, must close the
connection, a fence that must be answered last) and an id the answer carries; answers come back
in request order. What cannot be attributed (the bytes
after a lying frame size) is read to the end of the connection and only counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from fuzzing.connection import CLOSED, Connection, NoAnswer

MUST_ANSWER, MAY_STAY_SILENT, MUST_CLOSE = "must answer", "may stay silent", "must close"
MAY_PASS_UNSEEN = "may be answered unrecognisably"
"""A request whose answer may read as a server-sent event (a jute request with xid -1, answered with
xid -1 and err 0, reads as a watch event): it is matched when its answer can be told, but never
waited for, as a server rightly keeping the connection open would otherwise look like a hang."""


@dataclass(frozen=True)
class Awaited:
    """One framed request's due: its `rule`, the id its answer carries, and how to judge the answer."""

    rule: str
    answer_id: int
    label: str
    judge: Callable[[bytes], list[str]]


def read_answers(connection: Connection, awaited: list[Awaited], answer_id: Callable[[bytes], int | None],
                 deadline: float, after_unframed: bool) -> list[str]:
    """Problems with the answers to `awaited` (in order); with `after_unframed`, the rest is drained to EOF.

    `answer_id` reads an answer's id, None for what is no answer (a watch event)."""
    problems: list[str] = []
    queue = list(awaited)
    while any(due.rule != MAY_PASS_UNSEEN for due in queue):
        due = queue[0]
        try:
            payload = connection.read_frame(deadline)
        except NoAnswer as why:
            return problems + [f"no answer within the deadline to a request that {due.rule} ({due.label}): {why}"]
        if payload is CLOSED:
            if due.rule == MUST_ANSWER:
                problems.append(f"connection closed instead of an answer ({due.label})")
            return problems
        got = answer_id(payload)
        if got is None:
            continue  # not an answer: a watch event
        while queue and queue[0].rule != MUST_ANSWER:
            if queue[0].rule == MUST_CLOSE:
                return problems + [f"an answer after a frame that must close the connection ({queue[0].label})"]
            if got == queue[0].answer_id:
                break
            queue.pop(0)  # one that may go unanswered was not
        if not queue:
            return problems + ["an answer after every request was answered"]
        due = queue.pop(0)
        if got != due.answer_id:
            return problems + [f"an answer with id {got} where {due.answer_id} was due ({due.label})"]
        problems += due.judge(payload)
    if after_unframed:
        problems += _drain(connection, deadline)
    return problems


def _drain(connection: Connection, deadline: float) -> list[str]:
    """After a lying frame the server must end the connection (or keep answering what it parsed)."""
    try:
        while connection.read_frame(deadline) is not CLOSED:
            pass
    except NoAnswer:
        return ["the connection stayed open after its input ended"]
    except ValueError as error:
        return [f"an unreadable answer: {error}"]
    return []


def deadline_after(wait_ms: int, base_s: float = 5.0) -> float:
    return time.monotonic() + base_s + wait_ms / 1000
