"""The transactional workload's schedules on a virtual clock, its options' rules and its registry entry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.generator import SECOND, TimeLimit
from harness.spec import SpecError
from logquake.interpreter import simulate
from logquake.registry import WORKLOADS
from workloads.txn.operations import REREAD, TXN, committed_targets, final_polls, main_phase


@settings(max_examples=10)
@given(st.integers(0, 2**32), st.integers(1, 5), st.integers(1, 6), st.integers(1, 5))
def test_transactions_send_unique_values_to_real_partitions_in_bounded_transactions(seed, workers, partitions,
                                                                                     length):
    spec = WORKLOADS.spec(workload="txn", partitions=partitions, max_txn_length=length, rate=300, topic="t")
    history = simulate(TimeLimit(SECOND, main_phase(spec)), workers, seed)
    txns = [op["value"] for op in history if op["type"] == "invoke" and op["f"] == TXN]
    sends = [mop for txn in txns for mop in txn if mop[0] == "send"]
    assert len(txns) > 20 and all(1 <= len(txn) <= length for txn in txns)
    assert len({value for _, _, value in sends}) == len(sends)
    assert {key for _, key, _ in sends} <= set(range(partitions))
    assert all(mop in (["poll"],) or mop[0] == "send" for txn in txns for mop in txn)


def polls_of(log: dict[int, list[int]], step: int):
    """A consumer reading `step` records per poll from each partition, from its start after an assign-from-start."""
    positions: dict = {}

    def complete(op):
        if op["f"] == REREAD:
            positions.update({(op["thread"], p): 0 for p in op["value"]})
            return "ok", op["value"]
        reads = {}
        for p, offsets in log.items():
            read = [o for o in offsets if o >= positions.get((op["thread"], p), 0)][:step]
            if read:
                reads[str(p)] = [[o, o * 10] for o in read]
                positions[(op["thread"], p)] = read[-1] + 1
        return "ok", [["poll", reads]]

    return complete


@given(st.integers(1, 4), st.integers(1, 7), st.dictionaries(st.integers(0, 3), st.integers(0, 30)))
def test_final_polls_read_every_partition_from_its_start_up_to_the_committed_targets(workers, step, targets):
    log = {p: list(range(31)) for p in range(4)}
    history = simulate(final_polls(4, targets), workers, 0, complete=polls_of(log, step))
    for thread in range(workers):
        ops = [op for op in history if op["thread"] == thread and op["type"] == "ok"]
        assert ops[0]["f"] == REREAD and all(op["f"] == TXN for op in ops[1:])
        needed = max([-(-(t + 1) // step) for t in targets.values()], default=0)
        assert len(ops) - 1 == needed


def test_final_polls_assign_again_after_an_unknown_outcome():
    answers = iter(["info", "ok"])

    def complete(op):
        if op["f"] == REREAD:
            return "ok", op["value"]
        outcome = next(answers, "ok")
        return outcome, [["poll", {"0": [[0, 1]]}]] if outcome == "ok" else None

    history = simulate(final_polls(1, {0: 0}), 1, 0, complete=complete)
    assert [(op["f"], op["type"]) for op in history if op["type"] != "invoke"] == [
        (REREAD, "ok"), (TXN, "info"), (REREAD, "ok"), (TXN, "ok")]


def test_committed_targets_are_the_highest_offsets_committed_sends_were_given():
    history = [
        {"f": TXN, "type": "ok", "value": [["send", 0, [4, 1]], ["poll", {}], ["send", 1, [None, 2]]]},
        {"f": TXN, "type": "ok", "value": [["send", 0, [2, 3]], ["send", 2, [7, 4]]]},
        {"f": TXN, "type": "fail", "value": [["send", 0, 5]]},
        {"f": "assign", "type": "ok", "value": [0, 1]},
    ]
    assert committed_targets(history) == {0: 4, 2: 7}


@pytest.mark.parametrize("values, message", [
    ({"abort_p": 1.5}, "at most 1"),
    ({"abort_p": 0.2, "txn": False}, "needs transactions"),
    ({"acks": "1"}, "acks all"),
    ({"isolation_level": "snapshot"}, "read_committed, read_uncommitted"),
])
def test_options_refuse_what_transactions_cannot_do(values, message):
    with pytest.raises(SpecError, match=message):
        WORKLOADS.spec(workload="txn", **values)


def test_a_txn_spec_stores_what_the_checker_reads():
    stored = WORKLOADS.spec(workload="txn", isolation_level="read_uncommitted", abort_p=0.3).to_dict()
    assert {key: stored[key] for key in ("txn", "isolation_level", "acks", "ww_deps", "abort_p")} == {
        "txn": True, "isolation_level": "read_uncommitted", "acks": "all", "ww_deps": True, "abort_p": 0.3}
    assert stored["name"] == "txn-none-read-uncommitted" and stored["client"] == "confluent-kafka"
    assert WORKLOADS.spec(workload="txn", client="kafka-python").to_dict()["client"] == "kafka-python"


def test_txn_orders_are_checked_and_reach_the_checker_as_the_orders_drawn():
    with pytest.raises(SpecError, match="txn_orders must be among process, realtime, not causal"):
        WORKLOADS.spec(workload="txn", txn_orders="process,causal")
    history = [{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": TXN, "value": [["send", 0, 1]]},
               {"index": 1, "time": 1, "process": 0, "type": "ok", "f": TXN, "value": [["send", 0, [0, 1]]]},
               {"index": 2, "time": 2, "process": 0, "type": "invoke", "f": TXN, "value": [["poll"]]},
               {"index": 3, "time": 3, "process": 0, "type": "ok", "f": TXN, "value": [["poll", {"0": [[0, 1]]}]]}]
    for orders, drawn in (("process,realtime", {"process", "realtime"}), ("realtime", {"realtime"}), ("", set())):
        test = WORKLOADS.spec(workload="txn", txn_orders=orders).to_dict()
        edges = WORKLOADS["txn"].check(test, history, None)["summary"]["edges"]
        assert {kind for kind in ("process", "realtime") if edges.get(kind)} == drawn
