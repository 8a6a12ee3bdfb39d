"""The total-queue checker: every anomaly kind found in a constructed history, nothing found in clean ones, and
histories of a simulated at-least-once queue (hypothesis) judged as the simulation says."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.total_queue import check_total_queue
from harness.history import HistoryError
from tests.checkers.histories import History, checked

TEST = {"name": "amqp", "workload": "amqp", "system": "rabbitmq", "brokers": 3, "keepers": 0,
        "queue_type": "quorum", "partition_handling": "pause_minority"}


class AmqpHistory(History):
    def enqueue(self, process: Any, value: int, type: str = "ok") -> None:
        self.op(process, "enqueue", value, type, value)

    def dequeue(self, process: Any, value: int | None, type: str = "ok") -> None:
        self.event(process, "invoke", "dequeue", None)
        self.event(process, type, "dequeue", value, None if type == "ok" else "connection lost")

    def drain(self, process: Any, values: list[int], type: str = "ok") -> None:
        self.event(process, "invoke", "drain", None)
        self.event(process, type, "drain", values, None if type == "ok" else "connection lost")


def _counts(results: dict[str, Any]) -> dict[str, int]:
    return {name: a["count"] for name, a in results["anomalies"].items() if a["count"]}


def test_a_clean_history_is_valid_and_finds_nothing():
    h = AmqpHistory()
    for value in range(5):
        h.enqueue(value % 2, value)
    h.dequeue(0, 0)
    h.dequeue(1, 1)
    h.drain(0, [2, 3, 4])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] is True and _counts(results) == {}
    assert results["summary"]["enqueues"] == {"ok": 5, "fail": 0, "info": 0}
    assert results["summary"]["drained"] is True


@pytest.mark.parametrize("partition_handling, forbidden", [
    ("pause_minority", True), ("ignore", False), ("autoheal", False)])
def test_a_mirrored_classic_queue_may_lose_confirmed_messages_unless_a_partitioned_minority_pauses(
        partition_handling, forbidden):
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1])
    test = {**TEST, "queue_type": "classic-mirrored", "partition_handling": partition_handling}
    results = check_total_queue(test, h.events)
    assert results["valid"] is not forbidden
    assert results["anomalies"]["lost"]["forbidden" if forbidden else "allowed"] == 1
    assert ("lost" in results["claim"]["allows"]) is not forbidden


@pytest.mark.parametrize("queue_type, durable, persistent, forbidden", [
    ("classic", True, True, True), ("classic", False, True, False), ("classic", True, False, False),
    ("classic-mirrored", True, False, False), ("quorum", True, False, True)])
def test_a_transient_classic_queue_or_transient_messages_may_lose_confirmed_messages_a_quorum_queue_never(
        queue_type, durable, persistent, forbidden):
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1])
    test = {**TEST, "queue_type": queue_type, "durable": durable, "persistent": persistent}
    results = check_total_queue(test, h.events)
    assert results["valid"] is not forbidden
    assert results["anomalies"]["lost"]["forbidden" if forbidden else "allowed"] == 1
    assert (results["claim"]["durable"], results["claim"]["persistent"]) == (durable, persistent)
    assert ("restarts" in results["claim"]["guarantees"][0]) is not forbidden


def _reordered(h: AmqpHistory, test: dict[str, Any] = TEST) -> dict[str, Any]:
    return check_total_queue(test, h.events)["anomalies"]["reordered"]


def test_a_message_got_after_a_later_one_of_its_producer_is_reordered():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.enqueue(1, 3)
    h.dequeue(2, 2)
    h.dequeue(2, 3)
    h.dequeue(2, 1)
    h.drain(2, [])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] is False
    assert results["anomalies"]["reordered"] == {**results["anomalies"]["reordered"], "count": 1, "forbidden": 1,
                                                 "examples": [{"value": 1, "forbidden": True}]}


def test_reordering_is_not_claimed_for_concurrent_publishes_nor_after_a_get_nobody_saw():
    concurrent = AmqpHistory()
    concurrent.event(0, "invoke", "enqueue", 1)
    concurrent.enqueue(1, 2)
    concurrent.event(0, "ok", "enqueue", 1)
    concurrent.dequeue(2, 2)
    concurrent.dequeue(2, 1)
    assert _reordered(concurrent)["count"] == 0
    unseen = AmqpHistory()
    unseen.enqueue(0, 1)
    unseen.enqueue(0, 2)
    unseen.dequeue(3, None, "info")
    unseen.dequeue(2, 2)
    unseen.dequeue(2, 1)
    assert _reordered(unseen)["count"] == 0


def test_a_mirrored_queue_under_autoheal_may_reorder():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.dequeue(2, 2)
    h.dequeue(2, 1)
    allowed = _reordered(h, {**TEST, "queue_type": "classic-mirrored", "partition_handling": "autoheal"})
    assert (allowed["count"], allowed["forbidden"], allowed["allowed"]) == (1, 0, 1)


def test_a_confirmed_message_never_got_is_lost_and_forbidden():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] is False
    assert results["anomalies"]["lost"] == {**results["anomalies"]["lost"], "count": 1, "forbidden": 1,
                                            "examples": [{"value": 2, "forbidden": True}]}


def test_a_message_nobody_enqueued_is_unexpected_and_forbidden():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.dequeue(1, 1)
    h.dequeue(1, 99)
    h.drain(1, [])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] is False
    assert _counts(results) == {"unexpected": 1} and results["anomalies"]["unexpected"]["forbidden"] == 1


def test_duplicates_recovered_and_nacked_deliveries_are_counted_and_allowed():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2, "info")
    h.enqueue(0, 3, "fail")
    h.dequeue(1, 1, "info")  # got, but its ack was lost with the connection: delivered again below
    h.drain(2, [1, 2, 3])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] is True
    assert _counts(results) == {"duplicated": 1, "recovered": 1, "nacked-delivered": 1}
    assert results["anomalies"]["duplicated"]["examples"] == [{"value": 1, "times": 2, "forbidden": False}]
    assert all(a["forbidden"] == 0 for a in results["anomalies"].values())


def test_without_a_drain_that_emptied_the_queue_missing_messages_make_the_verdict_unknown():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1], "info")
    results = check_total_queue(TEST, h.events)
    assert results["valid"] == "unknown"
    assert results["anomalies"]["lost"]["count"] == 1 and results["anomalies"]["lost"]["forbidden"] == 0
    assert any("no drain emptied the queue" in reason for reason in results["reasons"])


def test_a_run_without_a_confirmed_enqueue_cannot_be_judged():
    h = AmqpHistory()
    h.enqueue(0, 1, "info")
    h.drain(1, [])
    results = check_total_queue(TEST, h.events)
    assert results["valid"] == "unknown" and "no enqueue was confirmed: nothing to check" in results["reasons"]


def test_a_message_that_is_not_an_integer_is_a_history_error():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.dequeue(1, "one")
    with pytest.raises(HistoryError, match="an AMQP message is an integer"):
        check_total_queue(TEST, h.events)


def test_the_claim_says_what_quorum_queues_promise():
    claim = check_total_queue(TEST, AmqpHistory().events)["claim"]
    assert claim["queue_type"] == "quorum" and claim["partition_handling"] == "pause_minority"
    assert claim["guarantees"][0].startswith("confirmed messages are never lost while a majority")


def test_the_composed_check_gives_the_kafka_runs_verdict_and_files(tmp_path):
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1])
    results = checked(TEST, h.events, tmp_path)
    assert results["valid"] is False
    assert results["amqp"]["anomalies"]["lost"]["forbidden"] == 1 and results["stats"]["valid"] is True
    assert all((tmp_path / name).is_file() for name in results["files"])


# A simulated RabbitMQ queue, at-least-once: steps are drawn, the queue does what a correct broker may do.
STEPS = st.lists(st.sampled_from(["confirm", "nack", "unknown-taken", "unknown-dropped", "get", "get-ack-lost"]),
                 max_size=60)


def _simulate(steps: list[str], drop: int | None = None) -> tuple[AmqpHistory, set[int]]:
    """The history a correct queue gives for `steps`, then a final drain; `drop` (a value) is lost by the queue
    instead, a broken broker. Returns the history and the confirmed values."""
    h, queue, confirmed = AmqpHistory(), [], set()
    for value, step in enumerate(steps):
        if step in ("confirm", "nack", "unknown-taken", "unknown-dropped"):
            outcome = {"confirm": "ok", "nack": "fail"}.get(step, "info")
            h.enqueue(value % 3, value, outcome)
            if step in ("confirm", "unknown-taken"):
                queue.append(value)
            if outcome == "ok":
                confirmed.add(value)
        elif queue:
            got = queue.pop(0)
            h.dequeue(value % 3, got, "ok" if step == "get" else "info")
            if step == "get-ack-lost":
                queue.append(got)
        else:
            h.dequeue(value % 3, None)
    h.drain(9, [value for value in queue if value != drop])
    return h, confirmed


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_a_correct_at_least_once_queue_is_always_valid_or_unjudged(steps):
    h, confirmed = _simulate(steps)
    results = check_total_queue(TEST, h.events)
    assert results["valid"] == (True if confirmed else "unknown")
    assert results["anomalies"]["lost"]["count"] == 0 and results["anomalies"]["unexpected"]["count"] == 0
    assert results["anomalies"]["reordered"]["count"] == 0
    redelivered = steps.count("get-ack-lost")
    assert results["anomalies"]["duplicated"]["count"] <= redelivered


@settings(max_examples=200, deadline=None)
@given(STEPS, st.data())
def test_a_queue_that_drops_a_confirmed_message_is_caught(steps, data):
    _, confirmed = _simulate(steps)
    waiting = sorted(confirmed)
    if not waiting:
        return
    h, _ = _simulate(steps, drop=data.draw(st.sampled_from(waiting)))
    results = check_total_queue(TEST, h.events)
    dropped_still_queued = results["anomalies"]["lost"]["count"]
    assert dropped_still_queued in (0, 1)  # 0: the dropped message had already been got before the drain
    assert results["valid"] is (False if dropped_still_queued else True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["confirm", "get"]), max_size=40))
def test_a_queue_that_hands_out_its_newest_message_is_caught_reordering(steps):
    """A broken broker (a stack, not a queue), with no lost get to excuse it: every message of a producer got
    by a dequeue before an earlier message of that producer was got is found, and nothing else."""
    h, stack, got_at = AmqpHistory(), [], {}
    for value, step in enumerate(steps):
        if step == "confirm":
            h.enqueue(value % 2, value)
            stack.append(value)
        elif stack:
            got_at[stack[-1]] = value
            h.dequeue(2, stack.pop())
    h.drain(2, stack)
    late = {a for a in range(len(steps)) if steps[a] == "confirm" and any(
        b > a and b % 2 == a % 2 and b in got_at and got_at[b] < got_at.get(a, len(steps)) for b in got_at)}
    assert {e["value"] for e in _reordered(h)["examples"]} == set(sorted(late)[:8])
    assert _reordered(h)["count"] == len(late)
