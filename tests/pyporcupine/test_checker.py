"""The checker's contract: real-time order, unknown outcomes, partitions, limits, verbose info."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from pyporcupine import (
    CheckResult,
    Event,
    EventKind,
    MalformedHistory,
    Operation,
    check_events,
    check_events_verbose,
    check_operations,
    check_operations_verbose,
)
from pyporcupine.models import UNKNOWN, KvModel, RegisterModel

R = ("read",)


def write(client: int, value: int, call: float, ret: float | None) -> Operation:
    return Operation(client, ("write", value), call, None if ret is not None else UNKNOWN, ret)


def read(client: int, value: object, call: float, ret: float) -> Operation:
    return Operation(client, R, call, value, ret)


def test_a_read_concurrent_with_a_write_may_see_either_value() -> None:
    # Porcupine's README example: put(100) over [0, 100]; gets over [25, 75] and [30, 60].
    history = [write(0, 100, 0, 100), read(1, 100, 25, 75), read(2, 0, 30, 60)]
    assert check_operations(RegisterModel(initial=0), history) is CheckResult.OK


def test_a_read_after_a_newer_read_cannot_go_back_in_time() -> None:
    history = [write(0, 100, 0, 100), read(1, 100, 25, 75), read(2, 0, 80, 90)]
    assert check_operations(RegisterModel(initial=0), history) is CheckResult.ILLEGAL


def test_operations_that_touch_at_one_instant_are_concurrent() -> None:
    # The read is called at the instant the write returns: it may still be ordered first.
    assert check_operations(RegisterModel(initial=0), [write(0, 1, 0, 5), read(1, 0, 5, 6)]) is CheckResult.OK
    assert check_operations(RegisterModel(initial=0), [write(0, 1, 0, 5), read(1, 0, 6, 7)]) is CheckResult.ILLEGAL


def test_an_unknown_outcome_may_take_effect_any_time_after_its_call_or_never() -> None:
    lost_or_late = write(0, 1, 0, None)
    assert check_operations(RegisterModel(initial=0), [lost_or_late, read(1, 1, 10, 11)]) is CheckResult.OK
    assert check_operations(RegisterModel(initial=0), [lost_or_late, read(1, 0, 10, 11)]) is CheckResult.OK
    flip_flop = [lost_or_late, read(1, 1, 10, 11), read(1, 0, 12, 13)]
    assert check_operations(RegisterModel(initial=0), flip_flop) is CheckResult.ILLEGAL
    before_its_call = [write(0, 1, 5, None), read(1, 1, 0, 2)]
    assert check_operations(RegisterModel(initial=0), before_its_call) is CheckResult.ILLEGAL


def test_an_empty_history_is_linearizable() -> None:
    assert check_operations(RegisterModel(), []) is CheckResult.OK
    assert check_events(RegisterModel(), []) is CheckResult.OK


def test_events_use_their_position_as_time() -> None:
    events = [
        Event(0, EventKind.CALL, ("write", 100), "w"),
        Event(1, EventKind.CALL, R, "r1"),
        Event(2, EventKind.CALL, R, "r2"),
        Event(2, EventKind.RETURN, 0, "r2"),
        Event(1, EventKind.RETURN, 100, "r1"),
        Event(0, EventKind.RETURN, None, "w"),
    ]
    assert check_events(RegisterModel(initial=0), events) is CheckResult.OK
    read_new_then_old = [events[0], events[1], events[4], events[2], events[3], events[5]]
    assert check_events(RegisterModel(initial=0), read_new_then_old) is CheckResult.ILLEGAL


def test_a_return_before_its_call_is_an_error() -> None:
    with pytest.raises(MalformedHistory, match="before its call"):
        check_operations(RegisterModel(), [read(0, None, 5, 4)])


def exploding_kv_history(key: str, unknown_appends: int) -> list[Operation]:
    """Unknown appends, all concurrent, then a read no order can produce: the search must try
    every subset in every order, and each order is a different string."""
    appends = [Operation(c, ("append", key, chr(ord("a") + c)), 0, UNKNOWN, None) for c in range(unknown_appends)]
    return appends + [Operation(99, ("get", key), 1, "impossible", 2)]


def test_the_first_illegal_partition_ends_the_check_while_others_are_unfinished() -> None:
    illegal = [Operation(0, ("put", "bad", "x"), 0, None, 1), Operation(0, ("get", "bad"), 2, "y", 3)]
    history = exploding_kv_history("hard", 14) + illegal
    started = time.monotonic()
    result, info = check_operations_verbose(KvModel(), history, timeout=120)
    assert result is CheckResult.ILLEGAL
    assert time.monotonic() - started < 60
    by_key = {p.operations[0].input[1]: p.result for p in info.partitions}
    assert by_key == {"hard": CheckResult.UNKNOWN, "bad": CheckResult.ILLEGAL}


def test_the_time_limit_ends_an_exploding_search_with_unknown() -> None:
    started = time.monotonic()
    result = check_operations(KvModel(), exploding_kv_history("k", 16), timeout=0.5)
    assert result is CheckResult.UNKNOWN
    assert time.monotonic() - started < 30


def test_the_memory_limit_ends_an_exploding_search_with_unknown_within_bounds() -> None:
    limit = 8 << 20
    tracemalloc.start()
    try:
        result = check_operations(KvModel(), exploding_kv_history("k", 16), memory_limit=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result is CheckResult.UNKNOWN
    assert peak < 3 * limit


def test_verbose_info_of_a_linearizable_history_is_a_full_linearization() -> None:
    history = [write(0, 100, 0, 100), read(1, 100, 25, 75), read(2, 0, 30, 60)]
    result, info = check_operations_verbose(RegisterModel(initial=0), history)
    assert result is CheckResult.OK
    [partition] = info.partitions
    assert partition.result is CheckResult.OK
    assert partition.longest_linearization() == (2, 0, 1)
    assert partition.partial_linearizations() == [(2, 0, 1)]


def test_verbose_info_shows_how_far_an_illegal_history_gets() -> None:
    history = [write(0, 1, 0, 1), read(1, 1, 2, 3), write(0, 2, 4, 5), read(1, 1, 6, 7)]
    result, info = check_operations_verbose(RegisterModel(initial=0), history)
    assert result is CheckResult.ILLEGAL
    [partition] = info.partitions
    assert partition.result is CheckResult.ILLEGAL
    assert partition.longest_linearization() == (0, 1, 2)
    assert partition.longest[3] == ()


def test_verbose_events_report_operations_in_call_order() -> None:
    events = [
        Event(0, EventKind.CALL, ("write", 1), 7),
        Event(1, EventKind.CALL, R, 3),
        Event(0, EventKind.RETURN, None, 7),
        Event(1, EventKind.RETURN, 0, 3),
    ]
    result, info = check_events_verbose(RegisterModel(initial=0), events)
    assert result is CheckResult.OK
    [partition] = info.partitions
    assert [op.input for op in partition.operations] == [("write", 1), R]
    assert [(op.call, op.return_time) for op in partition.operations] == [(0, 2), (1, 3)]
    assert partition.longest_linearization() == (1, 0)


def test_identical_unknown_operations_do_not_multiply_the_search() -> None:
    # 40 clients retry the same append and never hear back: 2**40 subsets if each is distinct.
    retries = [Operation(c, ("append", "k", "a"), c, UNKNOWN, None) for c in range(40)]
    assert check_operations(KvModel(), retries + [Operation(99, ("get", "k"), 50, "aaa", 51)],
                            timeout=60) is CheckResult.OK
    assert check_operations(KvModel(), retries + [Operation(99, ("get", "k"), 50, "ab", 51)],
                            timeout=60) is CheckResult.ILLEGAL


def test_identical_operations_still_take_effect_where_each_one_can() -> None:
    # The first write of 1 must land before the first read, the second after the write of 2.
    history = [
        write(0, 1, 0, None),
        read(1, 1, 1, 2),
        write(2, 2, 3, 4),
        write(3, 1, 10, None),
        read(1, 1, 11, 12),
    ]
    assert check_operations(RegisterModel(initial=0), history) is CheckResult.OK
    assert check_operations(RegisterModel(initial=0), history[:3] + history[4:]) is CheckResult.ILLEGAL
