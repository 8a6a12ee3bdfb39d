"""The queue checker on constructed histories: each anomaly is found with the right example, a clean
history yields nothing, and the configuration decides which anomalies invalidate the run."""

from __future__ import annotations

import re
from typing import Any

import pytest

from checkers.queue import ANOMALIES, check_queue
from harness.history import HistoryError
from tests.checkers.histories import TEST, History


def with_log(h: History, partition: int = 0, values: tuple[int, ...] = (10, 11, 12, 13)) -> list[int]:
    """Process 0 sends values to offsets 0.. of the partition; returns the completion indexes."""
    return [h.send(0, partition, value, offset) for offset, value in enumerate(values)]


def final_read(h: History, reads: dict[int, list[tuple[int, int]]], process: int = 99) -> int:
    h.assign(process, sorted(reads))
    return h.poll(process, reads)


def found(result: dict[str, Any]) -> dict[str, int]:
    return {name: a["count"] for name, a in result["anomalies"].items() if a["count"]}


def only_example(result: dict[str, Any], anomaly: str) -> dict[str, Any]:
    assert result["anomalies"][anomaly]["count"] == 1, found(result)
    return result["anomalies"][anomaly]["examples"][0]


def ref(index: int, process: Any, f: str, type: str = "ok") -> dict[str, Any]:
    return {"index": index, "process": process, "f": f, "type": type}


def clean() -> History:
    h = History()
    with_log(h)
    h.send(1, 1, 20, 0)
    h.assign(2, [0, 1])
    h.poll(2, {0: [(0, 10), (1, 11)], 1: [(0, 20)]})
    h.poll(2, {0: [(2, 12)]})
    h.poll(2, {0: [(3, 13)], 1: []})
    final_read(h, {0: [(0, 10), (1, 11), (2, 12), (3, 13)], 1: [(0, 20)]})
    return h


def test_a_clean_history_has_no_anomaly() -> None:
    result = check_queue(TEST, clean().events)
    assert result["valid"] is True
    assert found(result) == {}
    assert result["final_reads"] == {"attempted": True, "complete": True, "unreached": []}
    assert result["summary"]["sends"] == {"ok": 5, "fail": 0, "info": 0}
    assert result["summary"]["acknowledged_read"] == 5


def test_every_anomaly_is_reported_even_when_absent() -> None:
    result = check_queue(TEST, clean().events)
    assert list(result["anomalies"]) == list(ANOMALIES)
    assert all(set(a) == {"count", "forbidden", "allowed", "rule", "examples"} for a in result["anomalies"].values())


def lost_write_history() -> tuple[History, int, int]:
    """Offset 1 was acknowledged for value 11, but the log holds 14 there (a send whose outcome
    was unknown), as after a failover that truncated the acknowledged write."""
    h = History()
    h.send(0, 0, 10, 0)
    lost = h.send(0, 0, 11, 1)
    h.send(5, 0, 14, type="info")
    h.send(1, 0, 12, 2)
    top = final_read(h, {0: [(0, 10), (1, 14), (2, 12)]})
    return h, lost, top


def test_lost_write() -> None:
    h, lost, top = lost_write_history()
    result = check_queue(TEST, h.events)
    assert only_example(result, "lost-write") == {
        "partition": 0, "offset": 1, "value": 11, "send": ref(lost, 0, "send"), "forbidden": True,
        "highest_read": {"offset": 2, "poll": ref(top, 99, "poll")}}
    assert result["valid"] is False
    assert "1 lost-write: forbidden by this configuration" in result["reasons"]


@pytest.mark.parametrize("acks", ["1", "0"])
def test_lost_writes_are_allowed_below_acks_all(acks: str) -> None:
    h, _, _ = lost_write_history()
    result = check_queue({**TEST, "acks": acks}, h.events)
    assert result["anomalies"]["lost-write"] | {"examples": None} == {
        "count": 1, "forbidden": 0, "allowed": 1, "rule": result["anomalies"]["lost-write"]["rule"], "examples": None}
    assert result["anomalies"]["inconsistent-offsets"]["allowed"] == 1
    assert result["valid"] is True
    assert "1 lost-write: allowed by this configuration" in result["reasons"]


def test_unclean_election_allows_lost_writes_under_acks_all() -> None:
    h, _, _ = lost_write_history()
    test = {**TEST, "broker_overrides": {"unclean.leader.election.enable": "true"}}
    assert check_queue(test, h.events)["valid"] is True


def test_unseen_after_final_reads_is_invalid() -> None:
    h = History()
    with_log(h, values=(10, 11, 12))
    unseen = h.send(1, 0, 13, 3)
    final_read(h, {0: [(0, 10), (1, 11), (2, 12)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "unseen") == {
        "partition": 0, "offset": 3, "value": 13, "send": ref(unseen, 1, "send"), "forbidden": True}
    assert result["final_reads"] == {"attempted": True, "complete": False, "unreached": [
        {"partition": 0, "highest_acknowledged": 3, "highest_read": 2}]}
    assert result["valid"] is False


def test_unseen_without_final_reads_is_unknown() -> None:
    h = History()
    with_log(h, values=(10, 11))
    h.assign(2, [0])
    h.poll(2, {0: [(0, 10)]})
    h.send(1, 0, 12, 2)
    result = check_queue(TEST, h.events)
    assert result["anomalies"]["unseen"]["count"] == 2
    assert result["final_reads"]["attempted"] is False
    assert result["valid"] == "unknown"
    assert "2 unseen: no final reads, so they may be lost or only late" in result["reasons"]


def test_unseen_is_allowed_under_acks_1() -> None:
    h = History()
    h.send(0, 0, 10, 0)
    final_read(h, {0: []})
    result = check_queue({**TEST, "acks": "1"}, h.events)
    assert result["anomalies"]["unseen"]["allowed"] == 1
    assert result["valid"] is True


def test_acks_0_sends_without_offsets_are_unseen_not_lost() -> None:
    h = History()
    h.send(0, 0, 10, -1)
    h.send(0, 0, 11, None)
    h.send(0, 0, 12, -1)
    final_read(h, {0: [(0, 10), (1, 12)]})
    result = check_queue({**TEST, "acks": "0"}, h.events)
    assert only_example(result, "unseen")["value"] == 11
    assert found(result) == {"unseen": 1}
    assert result["valid"] is True


def test_duplicate() -> None:
    h = History()
    sends = with_log(h, values=(10, 11, 12))
    h.assign(2, [0])
    read = h.poll(2, {0: [(0, 10), (1, 11), (2, 12), (3, 11)]})
    result = check_queue({**TEST, "idempotence": True}, h.events)
    example = only_example(result, "duplicate")
    assert example == {"value": 11, "forbidden": True, "at": [
        {"partition": 0, "offset": 1, "sent_by": ref(sends[1], 0, "send"), "read_by": ref(read, 2, "poll")},
        {"partition": 0, "offset": 3, "read_by": ref(read, 2, "poll")}]}
    assert result["valid"] is False


def test_duplicates_are_allowed_when_a_plain_producer_retries() -> None:
    h = History()
    with_log(h, values=(10, 11))
    final_read(h, {0: [(0, 10), (1, 11), (2, 11)]})
    plain = {**TEST, "idempotence": False}
    assert check_queue({**plain, "retries": 3, "client": "kafka-python"}, h.events)["valid"] is True
    assert check_queue({**plain, "retries": 0, "client": "kafka-python"}, h.events)["valid"] is False
    # librdkafka resends after NOT_LEADER_OR_FOLLOWER whatever retries says: only idempotence rules duplicates out.
    assert check_queue({**plain, "retries": 0, "client": "confluent-kafka"}, h.events)["valid"] is True


def test_inconsistent_offsets_between_readers() -> None:
    h = History()
    with_log(h, values=(10, 11))
    h.send(5, 0, 12, type="info")
    h.send(6, 0, 13, type="info")
    h.assign(2, [0])
    a = h.poll(2, {0: [(0, 10), (1, 11), (2, 12)]})
    b = final_read(h, {0: [(0, 10), (1, 11), (2, 13)]})
    result = check_queue({**TEST, "acks": "1"}, h.events)
    assert only_example(result, "inconsistent-offsets") == {
        "partition": 0, "offset": 2, "values": [12, 13], "forbidden": True,
        "sources": [{"value": 12, "read_by": ref(a, 2, "poll")}, {"value": 13, "read_by": ref(b, 99, "poll")}]}
    assert result["valid"] is False, "two readers disagreeing is forbidden even under acks=1"


def test_g1a_aborted_read() -> None:
    h = History()
    with_log(h, values=(10,))
    failed = h.send(1, 0, 11, type="fail")
    read = final_read(h, {0: [(0, 10), (1, 11)]})
    result = check_queue({**TEST, "acks": "1"}, h.events)
    assert only_example(result, "G1a") == {"partition": 0, "offset": 1, "value": 11, "forbidden": True,
                                           "send": ref(failed, 1, "send", "fail"), "poll": ref(read, 99, "poll")}
    assert result["valid"] is False


def test_unknown_sends_are_neither_failed_nor_acknowledged() -> None:
    h = History()
    with_log(h, values=(10,))
    h.send(1, 0, 11, type="info")
    h.send(2, 0, 12, type="info")
    h.send(3, 0, 13, type=None)
    final_read(h, {0: [(0, 10), (1, 12)]})
    result = check_queue(TEST, h.events)
    assert found(result) == {}
    assert result["valid"] is True
    assert result["summary"]["sends"] == {"ok": 1, "fail": 0, "info": 3}
    assert result["summary"]["unknown_sends_read"] == 1


def test_poll_skip_across_polls() -> None:
    h = History()
    with_log(h)
    h.assign(2, [0])
    a = h.poll(2, {0: [(0, 10)]})
    b = h.poll(2, {0: [(3, 13)]})
    final_read(h, {0: [(0, 10), (1, 11), (2, 12), (3, 13)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "poll-skip") == {
        "process": 2, "partition": 0, "mode": "assign", "previous_poll": ref(a, 2, "poll"), "poll": ref(b, 2, "poll"),
        "from_offset": 0, "to_offset": 3, "skipped": 2, "skipped_offsets": [1, 2], "forbidden": True}
    assert result["valid"] is False


def test_nonmonotonic_poll_across_polls() -> None:
    h = History()
    with_log(h)
    h.assign(2, [0])
    a = h.poll(2, {0: [(0, 10), (1, 11), (2, 12)]})
    b = h.poll(2, {0: [(2, 12), (3, 13)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "nonmonotonic-poll") == {
        "process": 2, "partition": 0, "mode": "assign", "previous_poll": ref(a, 2, "poll"), "poll": ref(b, 2, "poll"),
        "from_offset": 2, "to_offset": 2, "forbidden": True}
    assert found(result) == {"nonmonotonic-poll": 1}


def test_subscribed_consumers_may_skip_and_rewind() -> None:
    h = History()
    with_log(h)
    h.subscribe(2)
    h.poll(2, {0: [(2, 12)]})
    h.poll(2, {0: [(0, 10)]})
    h.poll(2, {0: [(3, 13)]})
    final_read(h, {0: [(0, 10), (1, 11), (2, 12), (3, 13)]})
    result = check_queue(TEST, h.events)
    assert found(result) == {"poll-skip": 1, "nonmonotonic-poll": 1}
    assert result["anomalies"]["poll-skip"]["examples"][0]["mode"] == "subscribe"
    assert result["valid"] is True


def test_a_consumer_without_an_assign_op_follows_the_test_mode() -> None:
    h = History()
    with_log(h)
    h.poll(2, {0: [(0, 10)]})
    h.poll(2, {0: [(2, 12)]})
    assert check_queue({**TEST, "mode": "subscribe"}, h.events)["anomalies"]["poll-skip"]["forbidden"] == 0
    assert check_queue({**TEST, "mode": "assign"}, h.events)["anomalies"]["poll-skip"]["forbidden"] == 1


def test_assign_and_unsuccessful_polls_reset_a_consumers_position() -> None:
    h = History()
    with_log(h)
    h.assign(2, [0])
    h.poll(2, {0: [(1, 11)]})
    h.assign(2, [0])
    h.poll(2, {0: [(0, 10)]})
    h.poll(2, {}, type="fail")
    h.poll(2, {0: [(3, 13)]})
    h.poll(2, {0: [(2, 12)]}, type="info")
    final_read(h, {0: [(0, 10), (1, 11), (2, 12), (3, 13)]})
    assert found(check_queue(TEST, h.events)) == {}


def test_int_poll_skip() -> None:
    h = History()
    with_log(h)
    h.assign(2, [0])
    read = h.poll(2, {0: [(0, 10), (1, 11), (3, 13)]})
    final_read(h, {0: [(0, 10), (1, 11), (2, 12), (3, 13)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "int-poll-skip") == {
        "process": 2, "partition": 0, "poll": ref(read, 2, "poll"), "from_offset": 1, "to_offset": 3,
        "skipped": 1, "skipped_offsets": [2], "forbidden": True}
    assert found(result) == {"int-poll-skip": 1}
    assert result["valid"] is False


def test_int_nonmonotonic_poll() -> None:
    h = History()
    with_log(h)
    h.assign(2, [0])
    read = h.poll(2, {0: [(0, 10), (2, 12), (1, 11)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "int-nonmonotonic-poll") == {
        "process": 2, "partition": 0, "poll": ref(read, 2, "poll"), "from_offset": 2, "to_offset": 1,
        "forbidden": True}
    assert only_example(result, "int-poll-skip")["from_offset"] == 0


def test_offsets_nobody_wrote_are_no_skip_but_a_known_one_between_is() -> None:
    """Logs may leave offsets unused (transaction markers, compaction): only offsets some send or read knows count as
    skipped, however far apart the offsets are."""
    h = History()
    for offset, value in ((0, 10), (3, 13), (7, 17), (8, 18)):
        h.send(0, 0, value, offset)
    h.assign(2, [0])
    h.poll(2, {0: [(0, 10), (3, 13)]})
    h.poll(2, {0: [(7, 17)]})
    h.assign(3, [0])
    previous = h.poll(3, {0: [(0, 10)]})
    skipping = h.poll(3, {0: [(7, 17), (8, 18)]})
    final_read(h, {0: [(0, 10), (3, 13), (7, 17), (8, 18)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "poll-skip") == {
        "process": 3, "partition": 0, "mode": "assign", "previous_poll": ref(previous, 3, "poll"),
        "poll": ref(skipping, 3, "poll"),
        "from_offset": 0, "to_offset": 7, "skipped": 1, "skipped_offsets": [3], "forbidden": True}
    assert found(result) == {"poll-skip": 1}


def test_nonmonotonic_send() -> None:
    h = History()
    h.send(1, 0, 10, 0)
    earlier = h.send(0, 0, 12, 2)
    later = h.send(0, 0, 11, 1)
    h.send(0, 1, 20, 0)
    final_read(h, {0: [(0, 10), (1, 11), (2, 12)], 1: [(0, 20)]})
    result = check_queue(TEST, h.events)
    assert only_example(result, "nonmonotonic-send") == {
        "process": 0, "partition": 0, "forbidden": True,
        "earlier": {"offset": 2, "value": 12, "send": ref(earlier, 0, "send")},
        "later": {"offset": 1, "value": 11, "send": ref(later, 0, "send")}}
    assert found(result) == {"nonmonotonic-send": 1}
    assert check_queue({**TEST, "acks": "1"}, h.events)["valid"] is True


def test_examples_are_capped_but_counts_are_not() -> None:
    h = History()
    for value in range(20):
        h.send(0, 0, value, value)
    final_read(h, {0: [(20, 99)]})
    result = check_queue({**TEST, "acks": "1"}, h.events)
    assert result["anomalies"]["lost-write"]["count"] == 20
    assert [e["value"] for e in result["anomalies"]["lost-write"]["examples"]] == list(range(8))


def test_a_run_with_nothing_acknowledged_is_unknown() -> None:
    h = History()
    h.send(0, 0, 10, type="fail")
    result = check_queue(TEST, h.events)
    assert result["valid"] == "unknown"
    assert "no send was acknowledged: nothing to check" in result["reasons"]


@pytest.mark.parametrize("events, message", [
    ([{"index": 0, "time": 0, "process": 0, "type": "ok", "f": "send", "value": None}], "completes nothing"),
    ([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "send", "value": 5}], "must be {partition, value}"),
    ([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "poll", "value": None},
      {"index": 1, "time": 1, "process": 0, "type": "ok", "f": "poll", "value": {"x": [[0, 1]]}}], "not an integer"),
    ([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "poll", "value": None},
      {"index": 1, "time": 1, "process": 0, "type": "ok", "f": "poll", "value": {"0": [[0]]}}], "[[offset, value]"),
    ([{"index": 0, "process": 0, "type": "invoke", "f": "poll"}], "lacks time"),
    ([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "poll", "value": None},
      {"index": 1, "time": 1, "process": 0, "type": "invoke", "f": "poll", "value": None}], "still in flight"),
    ([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "poll", "value": None},
      {"index": 1, "time": 1, "process": 0, "type": "ok", "f": "send", "value": None}], "invoked f='poll'"),
])
def test_malformed_histories_get_a_clear_error(events: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(HistoryError, match=re.escape(message)):
        check_queue(TEST, events)
