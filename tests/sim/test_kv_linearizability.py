"""The simulation's history check, on histories built by hand."""

from __future__ import annotations

from cluster.sim.raft.kv_client import FAIL, INFO, OK, History, HistoryOp
from cluster.sim.raft.kv_linearizability import check_kv_history


def _history(*ops: HistoryOp) -> History:
    return History(list(ops))


def test_a_read_of_the_latest_completed_write_is_linearizable() -> None:
    history = _history(
        HistoryOp(1, "put", 0, 7, call=0, ret=10, outcome=OK),
        HistoryOp(2, "get", 0, 7, call=11, ret=20, outcome=OK),
    )
    assert check_kv_history(history) is None


def test_a_stale_read_after_a_completed_write_is_caught() -> None:
    history = _history(
        HistoryOp(1, "put", 0, 7, call=0, ret=10, outcome=OK),
        HistoryOp(2, "get", 0, None, call=11, ret=20, outcome=OK),
    )
    problem = check_kv_history(history)
    assert problem is not None and "key 0" in problem


def test_a_write_with_unknown_outcome_may_take_effect_late_or_never() -> None:
    unknown = HistoryOp(1, "put", 0, 7, call=0, ret=None, outcome=INFO)
    seen_late = HistoryOp(2, "get", 0, 7, call=50, ret=60, outcome=OK)
    never_seen = HistoryOp(3, "get", 0, None, call=20, ret=30, outcome=OK)
    assert check_kv_history(_history(unknown, never_seen, seen_late)) is None


def test_a_failed_write_must_never_be_read() -> None:
    history = _history(
        HistoryOp(1, "put", 1, 5, call=0, ret=10, outcome=FAIL),
        HistoryOp(2, "get", 1, 5, call=11, ret=20, outcome=OK),
    )
    assert check_kv_history(history) is not None


def test_reads_with_unknown_outcome_are_ignored() -> None:
    history = _history(
        HistoryOp(1, "put", 0, 7, call=0, ret=10, outcome=OK),
        HistoryOp(2, "get", 0, None, call=11, ret=None, outcome=INFO),
    )
    assert check_kv_history(history) is None
