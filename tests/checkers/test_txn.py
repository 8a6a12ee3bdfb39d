"""The transactional checker on constructed histories: each anomaly found (a cycle with its shortest cycle, judged
as the claim says), and its near miss not found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checkers.txn import cycles
from checkers.txn.checker import check_txn
from harness.history import HistoryError
from tests.checkers.txn_histories import TXN_TEST, TxnHistory, information_flow, poll, send


def check(h: TxnHistory, out_dir: Path | None = None, **test: Any) -> dict[str, Any]:
    return check_txn({**TXN_TEST, **test}, h.events, out_dir)


def found(result: dict[str, Any]) -> dict[str, int]:
    return {name: a["count"] for name, a in result["anomalies"].items() if a["count"]}


def cycle(result: dict[str, Any], name: str) -> list[tuple[int, str]]:
    """The first cycle of that name: (transaction, kind of the edge leaving it) for each step."""
    return [(step["from"]["txn"], step["kind"]) for step in result["anomalies"][name]["examples"][0]["steps"]]


def aborted_read(writer: str) -> TxnHistory:
    h = TxnHistory()
    h.txn(0, [send(0, 1)], writer)
    h.txn(1, [poll({0: [(0, 1)]})])
    return h


def test_an_aborted_read_is_forbidden_under_read_committed_and_allowed_under_read_uncommitted() -> None:
    committed = check(aborted_read("fail"))
    assert found(committed) == {"G1a": 1}
    assert committed["valid"] is False
    assert committed["anomalies"]["G1a"]["examples"][0]["writer"]["txn"] == 0
    uncommitted = check(aborted_read("fail"), isolation_level="read_uncommitted")
    assert uncommitted["anomalies"]["G1a"]["allowed"] == 1
    assert uncommitted["valid"] is True


def test_a_read_of_an_unknown_transactions_write_is_no_aborted_read() -> None:
    result = check(aborted_read("info"))
    assert found(result) == {}
    assert result["valid"] is True


def test_a_transaction_reading_its_own_send_is_a_precommitted_read() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), poll({0: [(0, 1)]})])
    result = check(h)
    assert found(result) == {"precommitted-read": 1}
    assert result["valid"] is False


def test_reading_a_processs_earlier_committed_send_is_no_precommitted_read() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0)])
    h.txn(0, [poll({0: [(0, 1)]})])
    assert found(check(h)) == {}


def intermediate(reads: list[tuple[int, int]]) -> TxnHistory:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(0, 2, 1)])
    h.txn(1, [poll({0: reads})])
    return h


def test_a_last_read_of_a_value_its_writer_overwrote_is_an_intermediate_read_allowed_by_kafka() -> None:
    result = check(intermediate([(0, 1)]))
    assert result["anomalies"]["G1b"]["allowed"] == 1
    assert result["anomalies"]["G1b"]["examples"][0]["value"] == 1
    assert result["valid"] is True


def test_reading_a_whole_transaction_is_no_intermediate_read() -> None:
    assert found(check(intermediate([(0, 1), (1, 2)]))) == {}


def test_another_transactions_send_between_two_of_one_transaction_is_an_allowed_send_skip() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(0, 3, 2)])
    h.txn(1, [send(0, 2, 1)])
    result = check(h)
    assert result["anomalies"]["int-send-skip"]["examples"][0]["between"] == [{"offset": 1, "value": 2}]
    assert cycle(result, "G0") == [(0, "ww"), (1, "ww")]
    assert result["valid"] is True


def test_successive_sends_are_no_send_skip() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(0, 3, 2)])
    h.txn(1, [send(0, 2, 3)])
    assert found(check(h)) == {}


def test_a_later_send_at_a_lower_offset_is_a_forbidden_nonmonotonic_send() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 5), send(0, 2, 3)])
    result = check(h)
    assert found(result) == {"int-nonmonotonic-send": 1}
    assert result["valid"] is False


def lost(offset: int) -> TxnHistory:
    h = TxnHistory()
    t0 = h.invoke(0, [send(0, 1, offset)])
    h.txn(1, [send(0, 2, 1)])
    h.complete(0, t0)
    h.txn(2, [poll({0: [(1, 2)]})])
    return h


def test_a_committed_send_below_what_was_read_and_never_read_is_a_lost_write() -> None:
    result = check(lost(0))
    assert found(result) == {"lost-write": 1}
    assert result["anomalies"]["lost-write"]["examples"][0]["value"] == 1
    assert result["valid"] is False


def test_a_committed_send_above_everything_read_is_no_lost_write() -> None:
    result = check(lost(2))
    assert "lost-write" not in found(result)
    assert result["valid"] is True


def test_one_value_at_two_offsets_is_a_duplicate_and_two_values_at_one_offset_inconsistent() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(0, 2, 2)])
    h.txn(1, [poll({0: [(0, 1), (1, 1), (2, 3)]})])
    result = check(h)
    assert found(result)["duplicate"] == 1
    assert result["anomalies"]["duplicate"]["examples"][0]["offsets"] == [0, 1]
    assert result["anomalies"]["inconsistent-offsets"]["examples"][0]["values"] == [2, 3]
    assert result["valid"] is False


def test_duplicates_are_allowed_without_idempotence_or_transactions() -> None:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0)])
    h.txn(1, [poll({0: [(0, 1), (1, 1)]})])
    assert check(h, txn=False, idempotence=False, retries=5)["anomalies"]["duplicate"]["allowed"] == 1


def write_cycle(t1_offset: int) -> TxnHistory:
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(1, 4, 1)])
    h.txn(1, [send(0, 2, 1), send(1, 3, t1_offset)])
    return h


def test_sends_that_interleave_on_two_keys_are_a_write_cycle_allowed_by_kafka() -> None:
    result = check(write_cycle(0))
    assert found(result) == {"G0": 1}
    assert cycle(result, "G0") == [(0, "ww"), (1, "ww")]
    assert result["anomalies"]["G0"]["examples"][0]["shortest"] == "exact"
    assert result["valid"] is True


def test_sends_in_the_same_order_on_two_keys_are_no_cycle() -> None:
    assert found(check(write_cycle(2))) == {}


def nested_write_cycles() -> TxnHistory:
    """A three-cycle found first (through key 0's edge), a two-cycle inside it (keys 1 and 3)."""
    h = TxnHistory()
    h.txn(0, [send(0, 1, 0), send(2, 9, 1)])
    h.txn(1, [send(0, 2, 1), send(1, 5, 0), send(3, 11, 1)])
    h.txn(2, [send(1, 6, 1), send(2, 8, 0), send(3, 10, 0)])
    return h


def test_the_shortest_write_cycle_of_a_component_is_shown() -> None:
    result = check(nested_write_cycles(), txn_orders=[])
    assert found(result) == {"G0": 1}
    assert sorted(cycle(result, "G0")) == [(1, "ww"), (2, "ww")]
    assert result["anomalies"]["G0"]["examples"][0]["shortest"] == "exact"


def test_a_component_too_large_to_try_every_edge_shows_the_shortest_cycle_found(monkeypatch: Any) -> None:
    monkeypatch.setattr(cycles, "SEARCH_BUDGET", 4)
    result = check(nested_write_cycles(), txn_orders=[])
    assert sorted(cycle(result, "G0")) == [(0, "ww"), (1, "ww"), (2, "ww")]
    assert result["anomalies"]["G0"]["examples"][0]["shortest"].startswith("shortest found")


def test_circular_information_flow_inside_a_large_component_is_never_missed(monkeypatch: Any) -> None:
    """T1 and T2 read each other inside a component with T0 and T3, whose first wr edge (T0 -> T3) is on no
    cycle of wr edges: one try of the bounded search through it finds nothing; the search apart does."""
    monkeypatch.setattr(cycles, "SEARCH_BUDGET", 1)
    h = TxnHistory()
    mops = [[send(0, 1, 0), send(1, 6, 1), send(2, 9, 0), send(3, 12, 1)],
            [send(2, 7, 1), poll({3: [(0, 8)]})],
            [send(3, 8, 0), poll({2: [(1, 7)]})],
            [poll({0: [(0, 1)]}), send(1, 5, 0)]]
    for process, txn in enumerate(mops):
        h.invoke(process, txn)
    for process, txn in enumerate(mops):
        h.complete(process, txn)
    result = check(h)
    assert result["anomalies"]["G1c"]["forbidden"] == 1
    flow = next(e for e in result["anomalies"]["G1c"]["examples"] if e["forbidden"])
    assert sorted(step["from"]["txn"] for step in flow["steps"]) == [1, 2]
    assert result["valid"] is False


def test_two_transactions_reading_each_other_are_circular_information_flow(tmp_path: Path) -> None:
    result = check(information_flow([(0, 2)]), tmp_path)
    assert found(result) == {"G1c": 1}
    assert cycle(result, "G1c") == [(0, "wr"), (1, "wr")] or cycle(result, "G1c") == [(1, "wr"), (0, "wr")]
    assert result["valid"] is False
    assert "G1c: a cycle of 2 transactions" in (tmp_path / "txn-cycles.txt").read_text()
    picture = result["anomalies"]["G1c"]["examples"][0]["picture"]
    assert (tmp_path / picture).read_text().startswith("<svg")
    assert check(information_flow([(0, 2)]), isolation_level="read_uncommitted")["valid"] is True


def test_one_transaction_not_reading_the_other_is_no_cycle() -> None:
    assert found(check(information_flow([]))) == {}


def test_circular_flow_through_write_order_is_an_allowed_g1c() -> None:
    h = TxnHistory()
    t0 = h.invoke(0, [send(0, 1, 0), poll({1: [(0, 3)]})])
    h.txn(1, [send(0, 2, 1), send(1, 3, 0)])
    h.complete(0, t0)
    result = check(h)
    assert found(result) == {"G1c": 1}
    assert sorted(cycle(result, "G1c")) == [(0, "ww"), (1, "wr")]
    assert result["valid"] is True


def read_skew(t0_reads: list[tuple[int, int]]) -> TxnHistory:
    h = TxnHistory()
    h.txn(2, [send(0, 1, 0)])
    t0 = h.invoke(0, [poll({0: t0_reads}), poll({1: [(0, 5)]})])
    h.txn(1, [send(0, 2, 1), send(1, 5, 0)])
    h.complete(0, t0)
    return h


def test_a_transaction_missing_a_write_of_one_it_read_from_is_g_single() -> None:
    result = check(read_skew([(0, 1)]))
    assert found(result) == {"G-single": 1}
    assert cycle(result, "G-single") == [(1, "rw"), (2, "wr")]
    assert result["valid"] is True


def test_a_transaction_seeing_both_writes_is_no_g_single() -> None:
    assert found(check(read_skew([(0, 1), (1, 2)]))) == {}


def test_two_transactions_each_missing_the_others_write_are_g2() -> None:
    h = TxnHistory()
    h.txn(2, [send(0, 1, 0), send(1, 3, 0)])
    t0 = h.invoke(0, [send(1, 4, 1), poll({0: [(0, 1)]})])
    t1 = h.invoke(1, [send(0, 2, 1), poll({1: [(0, 3)]})])
    h.complete(0, t0)
    h.complete(1, t1)
    result = check(h)
    assert found(result) == {"G2": 1}
    assert sorted(cycle(result, "G2")) == [(1, "rw"), (2, "rw")]


def stale_after(overlapping: bool) -> TxnHistory:
    h = TxnHistory()
    t0 = h.invoke(0, [poll({0: [(0, 1)]})])
    if overlapping:
        t1 = h.invoke(1, [send(0, 1, 0)])
        h.complete(0, t0)
        h.complete(1, t1)
    else:
        h.complete(0, t0)
        h.txn(1, [send(0, 1, 0)])
    return h


def test_reading_a_write_of_a_transaction_invoked_later_is_a_forbidden_realtime_g1c() -> None:
    result = check(stale_after(False))
    assert found(result) == {"G1c-realtime": 1}
    assert sorted(cycle(result, "G1c-realtime")) == [(0, "realtime"), (1, "wr")]
    assert result["valid"] is False
    assert found(check(stale_after(False), txn_orders=[])) == {}


def test_reading_a_write_of_an_overlapping_transaction_is_no_cycle() -> None:
    assert found(check(stale_after(True))) == {}


def test_a_history_out_of_format_is_a_clear_error() -> None:
    h = TxnHistory()
    h.event(0, "invoke", "txn", [["send", 0, 1]])
    h.event(0, "ok", "txn", [["send", 0, 1]])
    with pytest.raises(HistoryError, match=r"ok send must be"):
        check(h)
    with pytest.raises(ValueError, match="orders must be among"):
        check(TxnHistory(), txn_orders=["causal"])
    with pytest.raises(ValueError, match="isolation_level must be one of"):
        check(TxnHistory(), isolation_level="serializable")


def test_a_transaction_of_unknown_outcome_may_commit_after_its_client_gave_up() -> None:
    """T0 timed out before T1 began, yet its send follows T1's: no real-time order from an unknown completion."""
    h = TxnHistory()
    h.txn(0, [send(1, 3)], "info")
    h.txn(1, [send(1, 2, 0)])
    h.txn(2, [poll({1: [(0, 2), (1, 3)]})])
    result = check(h)
    assert result["summary"]["txns"] == {"ok": 2, "fail": 0, "info": 1}
    assert result["summary"]["committed"] == 3
    assert found(result) == {}
