"""Histories from real concurrent executions are linearizable; one impossible read makes them not.

Each history is produced by running operations from several clients against an in-memory object:
a client invokes, later the operation takes effect atomically, later still it returns, and the
steps of different clients interleave as hypothesis chooses, so intervals really overlap. A few
operations crash: they may or may not have taken effect and their outcome is unknown. (Few,
because each stays open to the end of the history and the search grows exponentially with them.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pyporcupine import CheckResult, Operation, check_operations
from pyporcupine.model import Model
from pyporcupine.models import UNKNOWN, CasRegisterModel, KvModel, RegisterModel

LIMIT = 60.0
"""A safety net: these histories take milliseconds, and UNKNOWN fails the test."""

VALUES = st.integers(0, 3)
KEYS = st.sampled_from(["x", "y"])
LETTERS = st.sampled_from("abc")
MAX_CRASHES = 2


@dataclass
class Pending:
    input: tuple
    call: int
    output: Any = None
    applied: bool = False


class Register:
    """The object under test, as a plain dict of key -> value (one key for registers)."""

    def __init__(self, initial: Any) -> None:
        self.initial = initial
        self.values: dict[Any, Any] = {}

    def apply(self, input: tuple) -> Any:
        f = input[0]
        if f == "read":
            return self.values.get(None, self.initial)
        if f == "write":
            self.values[None] = input[1]
            return None
        if f == "cas":
            matched = self.values.get(None, self.initial) == input[1]
            if matched:
                self.values[None] = input[2]
            return matched
        key = input[1]
        current = self.values.get(key, "")
        if f == "get":
            return current
        self.values[key] = input[2] if f == "put" else current + input[2]
        return None


register_inputs = st.one_of(st.just(("read",)), st.tuples(st.just("write"), VALUES))
cas_register_inputs = st.one_of(register_inputs, st.tuples(st.just("cas"), VALUES, VALUES))
kv_inputs = st.one_of(
    st.tuples(st.just("get"), KEYS),
    st.tuples(st.sampled_from(["put", "append"]), KEYS, LETTERS),
)


@st.composite
def executions(draw: st.DrawFn, inputs: st.SearchStrategy[tuple], initial: Any,
               max_crashes: int = MAX_CRASHES) -> list[Operation]:
    """Run up to 24 operations from up to 4 clients with hypothesis choosing every interleaving."""
    target = draw(st.integers(1, 24))
    clients = draw(st.integers(1, 4))
    obj = Register(initial)
    pending: dict[int, Pending] = {}
    history: list[Operation] = []
    clock = 0
    started = 0
    crashes = 0
    while started < target or pending:
        client = draw(st.integers(0, clients - 1))
        clock += 1
        op = pending.get(client)
        if op is None:
            if started < target:
                pending[client] = Pending(draw(inputs), clock)
                started += 1
        elif not op.applied and draw(st.booleans()):
            op.output = obj.apply(op.input)
            op.applied = True
        elif crashes < max_crashes and draw(st.integers(0, 9)) == 0:
            if not op.applied and draw(st.booleans()):
                obj.apply(op.input)
            history.append(Operation(client, op.input, op.call, UNKNOWN, None))
            del pending[client]
            crashes += 1
        elif op.applied:
            history.append(Operation(client, op.input, op.call, op.output, clock))
            del pending[client]
    return history


def pick_read(data: st.DataObject, history: list[Operation], read: tuple, initial: Any) -> tuple[list[Operation], int]:
    """A read with a known result to change (one is added at the end if there is none)."""
    candidates = [i for i, op in enumerate(history) if op.input == read and op.output is not UNKNOWN]
    if not candidates:
        history = history + [Operation(0, read, 10_000, initial, 10_001)]
        candidates = [len(history) - 1]
    return history, data.draw(st.sampled_from(candidates))


def with_impossible_register_read(data: st.DataObject, history: list[Operation], initial: Any) -> list[Operation]:
    history, index = pick_read(data, history, ("read",), initial)
    value = data.draw(st.sampled_from(impossible_register_values(history, index, initial)))
    return with_output(history, index, value)


def with_output(history: list[Operation], index: int, output: Any) -> list[Operation]:
    op = history[index]
    return history[:index] + [Operation(op.client_id, op.input, op.call, output, op.return_time)] + history[index + 1:]


def impossible_register_values(history: list[Operation], index: int, initial: Any) -> list[Any]:
    """Values no write invoked before this read returns could have put there: never current in
    the read's interval in any order of the history."""
    deadline = history[index].return_time
    written_in_time = {initial}
    for op in history:
        if op.call <= deadline and op.input[0] == "write":
            written_in_time.add(op.input[1])
        if op.call <= deadline and op.input[0] == "cas":
            written_in_time.add(op.input[2])
    return [v for v in range(0, 5) if v not in written_in_time] + [99]


RETRIED_INPUTS = st.one_of(st.just(("read",)), st.tuples(st.just("write"), st.integers(0, 1)),
                           st.tuples(st.just("cas"), st.integers(0, 1), st.integers(0, 1)))
"""Few distinct operations, so crashed ones often repeat, as retries do."""
MAX_RETRIED_CRASHES = 10


REGISTER_MODELS: list[tuple[Model, st.SearchStrategy[tuple], Any]] = [
    (RegisterModel(), register_inputs, None),
    (CasRegisterModel(), cas_register_inputs, None),
]


@given(st.data())
def test_register_executions_are_linearizable(data: st.DataObject) -> None:
    model, inputs, initial = data.draw(st.sampled_from(REGISTER_MODELS))
    history = data.draw(executions(inputs, initial))
    assert check_operations(model, history, timeout=LIMIT) is CheckResult.OK


@given(st.data())
def test_register_executions_with_an_impossible_read_are_not_linearizable(data: st.DataObject) -> None:
    model, inputs, initial = data.draw(st.sampled_from(REGISTER_MODELS))
    history = with_impossible_register_read(data, data.draw(executions(inputs, initial)), initial)
    assert check_operations(model, history, timeout=LIMIT) is CheckResult.ILLEGAL


@given(executions(kv_inputs, None))
def test_kv_executions_are_linearizable(history: list[Operation]) -> None:
    assert check_operations(KvModel(), history, timeout=LIMIT) is CheckResult.OK


@given(st.data())
def test_kv_executions_with_an_impossible_read_are_not_linearizable(data: st.DataObject) -> None:
    key = data.draw(KEYS)
    history, index = pick_read(data, data.draw(executions(kv_inputs, None)), ("get", key), "")
    # No operation ever writes "#": no order of the history can make the key hold it.
    impossible = history[index].output + "#"
    assert check_operations(KvModel(), with_output(history, index, impossible), timeout=LIMIT) is CheckResult.ILLEGAL


@given(st.data())
def test_executions_with_many_repeated_unknown_outcomes_are_linearizable(data: st.DataObject) -> None:
    history = data.draw(executions(RETRIED_INPUTS, None, MAX_RETRIED_CRASHES))
    assert check_operations(CasRegisterModel(), history, timeout=LIMIT) is CheckResult.OK


@given(st.data())
def test_executions_with_many_repeated_unknown_outcomes_and_an_impossible_read_are_not(data: st.DataObject) -> None:
    history = with_impossible_register_read(data, data.draw(executions(RETRIED_INPUTS, None, MAX_RETRIED_CRASHES)), None)
    assert check_operations(CasRegisterModel(), history, timeout=LIMIT) is CheckResult.ILLEGAL
