"""The compiled search and the Python walk give the same verdicts and the same partial linearizations.

The Python walk is the reference; the compiled one serves the built-in models. Both run on every
partition of hypothesis-generated histories (real executions, and the same with arbitrary outputs,
which are mostly not linearizable) and of Porcupine's vectors, and must agree on the verdict and
on every operation's longest linearizable prefix, which the visualization shows.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyporcupine import CheckResult, Operation, check_operations, check_operations_verbose
from pyporcupine.compiled import compiled_search
from pyporcupine.formats import load_history
from pyporcupine.model import Model
from pyporcupine.models import UNKNOWN, CasRegisterModel, Independent, KvModel, LogModel, RegisterModel
from pyporcupine.search import entry_lists
from tests.pyporcupine import vectors
from tests.pyporcupine.test_properties import (
    RETRIED_INPUTS,
    cas_register_inputs,
    executions,
    kv_inputs,
    register_inputs,
)

LIMIT = 60.0

MODELS: list[tuple[Model, st.SearchStrategy[tuple], st.SearchStrategy[Any]]] = [
    (RegisterModel(), register_inputs, st.integers(0, 4)),
    (RegisterModel(initial=2), register_inputs, st.integers(0, 4)),
    (CasRegisterModel(), cas_register_inputs, st.one_of(st.integers(0, 4), st.booleans(), st.none())),
    (CasRegisterModel(), RETRIED_INPUTS, st.one_of(st.integers(0, 2), st.booleans())),
    (KvModel(), kv_inputs, st.sampled_from(["", "a", "ab", "b", "ba", "abc"])),
]


def scrambled(data: st.DataObject, history: list[Operation], outputs: st.SearchStrategy[Any]) -> list[Operation]:
    """Some known outputs replaced by arbitrary ones (UNKNOWN among them)."""
    out = []
    for op in history:
        if op.return_time is not None and data.draw(st.integers(0, 3)) == 0:
            op = Operation(op.client_id, op.input, op.call, data.draw(st.one_of(outputs, st.just(UNKNOWN))),
                           op.return_time)
        out.append(op)
    return out


def both_ways(model: Model, history: list[Operation]) -> tuple[Any, Any]:
    compiled = check_operations_verbose(model, history, timeout=LIMIT)
    python = check_operations_verbose(model, history, timeout=LIMIT, compiled=False)
    return compiled, python


def summary(outcome: tuple[CheckResult, Any]) -> tuple[CheckResult, list[Any]]:
    result, info = outcome
    return result, [(p.result, p.operations, p.longest) for p in info.partitions]


@given(st.data())
def test_compiled_and_python_walks_agree_on_executions(data: st.DataObject) -> None:
    model, inputs, outputs = data.draw(st.sampled_from(MODELS))
    history = data.draw(executions(inputs, getattr(model, "initial", None), max_crashes=4))
    if data.draw(st.booleans()):
        history = scrambled(data, history, outputs)
    assert compiled_search(model, history, entry_lists(history), False) is not None
    compiled, python = both_ways(model, history)
    assert summary(compiled) == summary(python)


@given(st.data())
def test_compiled_and_python_walks_agree_per_key(data: st.DataObject) -> None:
    """Independent registers: one partition per key, each searched its own way."""
    history = scrambled(data, data.draw(executions(cas_register_inputs, None)), st.integers(0, 3))
    keys = data.draw(st.lists(st.sampled_from("xyz"), min_size=len(history), max_size=len(history)))
    keyed = [Operation(op.client_id, (key, op.input), op.call, op.output, op.return_time)
             for op, key in zip(history, keys)]
    compiled, python = both_ways(Independent(CasRegisterModel()), keyed)
    assert summary(compiled) == summary(python)


@st.composite
def log_executions(draw: st.DrawFn) -> list[Operation]:
    """Appends and reads of two partitions' logs taking effect one at a time at 10, 20, 30..., each
    in flight for a drawn while around that instant; a few appends of unknown outcome."""
    logs: dict[str, list[str]] = {"p0": [], "p1": []}
    history = []
    for n in range(draw(st.integers(1, 20))):
        key = draw(st.sampled_from(sorted(logs)))
        log = logs[key]
        call, end = 10 * n - draw(st.integers(0, 40)), 10 * n + draw(st.integers(0, 40))
        if draw(st.booleans()):
            value = draw(st.sampled_from(["a", "b", None]))
            if draw(st.integers(0, 6)) == 0:
                if draw(st.booleans()):
                    log.append(value)
                history.append(Operation(n, ("append", key, value), call, UNKNOWN, None))
                continue
            log.append(value)
            history.append(Operation(n, ("append", key, value), call, len(log) - 1, end))
        else:
            offset = draw(st.integers(-1, 3))
            history.append(Operation(n, ("read", key, offset), call, log[offset] if 0 <= offset < len(log) else None,
                                     end))
    return history


@given(st.data())
def test_compiled_and_python_walks_agree_on_logs(data: st.DataObject) -> None:
    history = data.draw(log_executions())
    if data.draw(st.booleans()):
        history = scrambled(data, history, st.one_of(st.sampled_from(["a", "b"]), st.none(), st.integers(-1, 3)))
    for part in LogModel().partition(history):
        assert compiled_search(LogModel(), part, entry_lists(part), False) is not None or any(
            not isinstance(op.output, (int, type(UNKNOWN))) for op in part if op.input[0] == "append")
    compiled, python = both_ways(LogModel(), history)
    assert summary(compiled) == summary(python)


@pytest.mark.parametrize("number", vectors.ETCD_NUMBERS)
def test_walks_agree_on_etcd_vectors(number: str) -> None:
    model, history = load_history(vectors.etcd_path(number), "jepsen-log", "cas-register")
    compiled, python = both_ways(model, history)
    assert summary(compiled) == summary(python)
    assert compiled[0] is (CheckResult.OK if vectors.etcd_is_linearizable(number) else CheckResult.ILLEGAL)


@pytest.mark.parametrize("name", vectors.KV_NAMES)
def test_walks_agree_on_kv_vectors(name: str) -> None:
    """c50-bad has partitions no search finishes: there the first illegal one ends the check, and
    only the verdicts are compared."""
    model, history = load_history(vectors.kv_path(name), "edn-kv", "kv")
    if name == "c50-bad":
        assert check_operations(model, history, timeout=LIMIT) is check_operations(
            model, history, timeout=LIMIT, compiled=False) is CheckResult.ILLEGAL
        return
    compiled, python = both_ways(model, history)
    assert summary(compiled) == summary(python)
    assert compiled[0] is (CheckResult.OK if vectors.kv_is_linearizable(name) else CheckResult.ILLEGAL)


class DoublingRegister(RegisterModel):
    """A user's model: a subclass may step differently, so the Python walk must search it."""

    def step(self, state: Any, input: tuple, output: Any) -> tuple[bool, Any]:
        if input[0] == "write":
            return True, 2 * input[1]
        return super().step(state, input, output)


def test_a_subclass_of_a_built_in_model_is_searched_in_python() -> None:
    history = [Operation(0, ("write", 1), 0, None, 1), Operation(0, ("read",), 2, 2, 3)]
    assert compiled_search(DoublingRegister(), history, entry_lists(history), False) is None
    assert check_operations(DoublingRegister(), history) is CheckResult.OK


@pytest.mark.parametrize("history", [
    [Operation(0, ("write", 1), 0, None, 1), Operation(0, ("read",), 2, [1], 3)],
    [Operation(0, ("write", float("nan")), 0, None, 1), Operation(0, ("read",), 2, float("nan"), 3)],
], ids=["unhashable", "nan"])
def test_values_that_cannot_be_numbered_are_searched_in_python(history: list[Operation]) -> None:
    assert compiled_search(RegisterModel(), history, entry_lists(history), False) is None
    assert check_operations(RegisterModel(), history) is check_operations(RegisterModel(), history, compiled=False)


@pytest.mark.parametrize("value", [1, "\ud800"], ids=["not a string", "a lone surrogate"])
def test_kv_values_rust_cannot_hold_are_searched_in_python(value: Any) -> None:
    history = [Operation(0, ("put", "k", value), 0, None, 1), Operation(0, ("get", "k"), 2, value, 3)]
    assert compiled_search(KvModel(), history, entry_lists(history), False) is None
    assert check_operations(KvModel(), history) is CheckResult.OK


@pytest.mark.parametrize("history", [
    [Operation(0, ("append", "p", "a"), 0, 0.0, 1)],
    [Operation(0, ("append", "p", "a"), 0, 0, 1), Operation(0, ("read", "p", 2 ** 70), 2, None, 3)],
], ids=["a float offset", "an offset beyond 64 bits"])
def test_log_values_rust_cannot_hold_are_searched_in_python(history: list[Operation]) -> None:
    assert compiled_search(LogModel(), history, entry_lists(history), False) is None
    assert check_operations(LogModel(), history) is CheckResult.OK

