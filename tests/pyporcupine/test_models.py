"""Each shipped model's step, partitioning and descriptions, and the nondeterministic model base."""

from __future__ import annotations

from pyporcupine import CheckResult, Event, EventKind, NondeterministicModel, Operation, check_operations
from pyporcupine.models import (
    UNKNOWN,
    CasRegisterModel,
    Independent,
    KvModel,
    LogModel,
    LogState,
    RegisterModel,
    SetModel,
)


def apply(model, inputs_outputs):
    """Run operations one after another; return the legality of each and the final state."""
    state = model.init()
    legal = []
    for input, output in inputs_outputs:
        ok, after = model.step(state, input, output)
        legal.append(ok)
        if ok:
            state = after
    return legal, state


def test_register_reads_the_last_write_and_starts_at_its_initial_value() -> None:
    legal, state = apply(RegisterModel(), [(("read",), None), (("write", 3), None), (("read",), 3), (("read",), 4)])
    assert legal == [True, True, True, False]
    assert state == 3
    assert RegisterModel(initial=0).step(0, ("read",), 0) == (True, 0)


def test_register_accepts_any_result_for_an_unknown_read() -> None:
    assert RegisterModel().step(7, ("read",), UNKNOWN) == (True, 7)


def test_cas_register_starts_absent_and_swaps_only_on_a_match() -> None:
    model = CasRegisterModel()
    assert model.init() is None
    assert model.step(None, ("cas", 1, 2), True)[0] is False
    assert model.step(None, ("cas", 1, 2), False) == (True, None)
    assert model.step(1, ("cas", 1, 2), True) == (True, 2)
    assert model.step(1, ("cas", 1, 2), False)[0] is False
    assert model.step(3, ("cas", 1, 2), False) == (True, 3)


def test_cas_register_with_unknown_outcome_swaps_if_it_matches() -> None:
    model = CasRegisterModel()
    assert model.step(1, ("cas", 1, 2), UNKNOWN) == (True, 2)
    assert model.step(3, ("cas", 1, 2), UNKNOWN) == (True, 3)


def test_kv_appends_puts_and_reads_empty_for_a_missing_key() -> None:
    legal, state = apply(KvModel(), [
        (("get", "k"), ""), (("append", "k", "a"), None), (("append", "k", "b"), None),
        (("get", "k"), "ab"), (("put", "k", "z"), None), (("get", "k"), "ab"),
    ])
    assert legal == [True, True, True, True, True, False]
    assert state == "z"


def test_keyed_models_partition_operations_by_key() -> None:
    history = [
        Operation(0, ("put", "x", "1"), 0, None, 1),
        Operation(1, ("get", "y"), 0, "", 1),
        Operation(2, ("get", "x"), 2, "1", 3),
    ]
    parts = KvModel().partition(history)
    assert sorted(len(p) for p in parts) == [1, 2]
    assert [op.input[1] for op in parts[0]] == ["x", "x"]


def test_keyed_models_partition_events_by_the_key_of_their_call() -> None:
    events = [
        Event(0, EventKind.CALL, ("put", "x", "1"), 0),
        Event(1, EventKind.CALL, ("get", "y"), 1),
        Event(0, EventKind.RETURN, None, 0),
        Event(1, EventKind.RETURN, "", 1),
    ]
    parts = KvModel().partition_event(events)
    assert [[e.id for e in p] for p in parts] == [[0, 0], [1, 1]]


def test_independent_registers_are_checked_per_key() -> None:
    model = Independent(CasRegisterModel())
    # Each key alone is fine; a single register could not read 1 and then None.
    history = [
        Operation(0, ("a", ("write", 1)), 0, None, 1),
        Operation(0, ("a", ("read",)), 2, 1, 3),
        Operation(1, ("b", ("read",)), 4, None, 5),
    ]
    assert check_operations(model, history) is CheckResult.OK
    assert check_operations(CasRegisterModel(), [
        Operation(op.client_id, op.input[1], op.call, op.output, op.return_time) for op in history
    ]) is CheckResult.ILLEGAL
    assert model.describe_operation(("a", ("write", 1)), None) == '["a"] write(1)'


def test_set_reads_must_see_exactly_the_added_values() -> None:
    legal, state = apply(SetModel(), [
        (("add", 1), None), (("read",), frozenset({1})), (("add", 2), None),
        (("read",), frozenset({1})), (("read",), frozenset({1, 2})),
    ])
    assert legal == [True, True, True, False, True]
    assert state == frozenset({1, 2})


def test_log_appends_return_consecutive_offsets() -> None:
    legal, state = apply(LogModel(), [
        (("append", "t-0", "a"), 0), (("append", "t-0", "b"), 1), (("append", "t-0", "c"), 1),
    ])
    assert legal == [True, True, False]
    assert state.values() == ["a", "b"]


def test_log_reads_by_offset_and_reads_nothing_past_the_end() -> None:
    legal, _ = apply(LogModel(), [
        (("read", "p", 0), None), (("append", "p", "a"), 0), (("read", "p", 0), "a"),
        (("read", "p", 1), None), (("read", "p", 0), "b"), (("read", "p", 5), UNKNOWN),
        (("read", "p", -1), None),
    ])
    assert legal == [True, True, True, True, False, True, True]


def test_log_states_are_equal_and_hash_alike_when_their_contents_are() -> None:
    built_apart = LogState(LogState(None, "a"), "b")
    built_together = LogState(LogState(None, "a"), "b")
    assert built_apart == built_together and hash(built_apart) == hash(built_together)
    assert built_apart != LogState(LogState(None, "b"), "a")
    assert built_apart != LogState(None, "b")
    assert built_apart.at(0) == "a" and built_apart.at(1) == "b"
    assert LogModel().describe_state(built_apart) == '["a" "b"]'


class MaybeLostWrite(NondeterministicModel):
    """A register whose writes may be silently lost: a step with two possible next states."""

    def init_states(self):
        return [0]

    def next_states(self, state, input, output):
        if input[0] == "write":
            return [state, input[1]]
        return [state] if output == state else []


def test_nondeterministic_model_tracks_every_possible_state() -> None:
    model = MaybeLostWrite()
    ok, states = model.step(model.init(), ("write", 5), None)
    assert ok and states == frozenset({0, 5})
    assert model.step(states, ("read",), 5) == (True, frozenset({5}))
    assert model.step(states, ("read",), 7) == (False, frozenset())
    assert model.describe_state(states) == "{0, 5}"


def test_nondeterministic_model_is_checked_through_the_power_set() -> None:
    write = Operation(0, ("write", 5), 0, None, 1)
    read_old = Operation(1, ("read",), 2, 0, 3)
    read_new = Operation(1, ("read",), 4, 5, 5)
    assert check_operations(MaybeLostWrite(), [write, read_old]) is CheckResult.OK
    assert check_operations(MaybeLostWrite(), [write, read_new]) is CheckResult.OK
    # Once the write is seen lost, it cannot come back: reads of 0 then 5 are illegal.
    assert check_operations(MaybeLostWrite(), [write, read_old, read_new]) is CheckResult.ILLEGAL


def test_models_describe_operations_the_way_a_history_reads() -> None:
    assert CasRegisterModel().describe_operation(("cas", 1, 2), False) == "cas(1, 2) -> fail"
    assert CasRegisterModel().describe_operation(("read",), None) == "read() -> nil"
    assert KvModel().describe_operation(("get", "k"), UNKNOWN) == 'get("k") -> unknown'
    assert LogModel().describe_operation(("append", "p", "m"), 3) == 'append("p", "m") -> offset 3'
    assert SetModel().describe_state(frozenset({2, 1})) == "#{1 2}"
