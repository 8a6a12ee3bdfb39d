"""The queue client against a real broker: outcomes of sends, polls, assigns and log starts, with both Kafka clients."""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from checkers.queue import check_queue
from cluster.deploy.broker_process import BrokerProcess
from harness.spec import TestSpec
from logquake.registry import WORKLOADS
from tests.checkers.histories import TEST, History
from workloads.queue.admin import create_topic, high_watermarks
from workloads.queue.client import open_client

CLIENTS = ["confluent-kafka", "kafka-python"]
SEGMENT_BYTES = 100
"""Below two one-record batches: every send gets a segment of its own."""


def listener_pid(port: int) -> int:
    """The process listening on a local port (the broker), found the way an operator would."""
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise LookupError(f"nothing listens on port {port}")


def spec_for(client: str, topic: str, **overrides) -> TestSpec:
    values = dict(brokers=1, keepers=0, replication_factor=1, min_insync=1, partitions=2, topic=f"{topic}-{client}",
                  client=client, op_timeout=2)
    values.update(overrides)
    return WORKLOADS.spec(**values)


def poll_until(client, count: int) -> dict:
    reads: dict = {}
    for _ in range(50):
        completion = client.invoke({"f": "poll", "value": None})
        assert completion["type"] == "ok"
        for partition, records in completion["value"].items():
            reads.setdefault(partition, []).extend(records)
        if sum(map(len, reads.values())) >= count:
            break
    return reads


@pytest.mark.parametrize("name", CLIENTS)
def test_sends_are_acknowledged_with_offsets_and_read_back(broker, name):
    spec = spec_for(name, "t")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    try:
        assert client.invoke({"f": "assign", "value": [0, 1]}) == {"type": "ok", "value": [0, 1]}
        sent = [client.invoke({"f": "send", "value": {"partition": v % 2, "value": v}}) for v in range(6)]
        assert [s["type"] for s in sent] == ["ok"] * 6
        assert [(s["value"]["partition"], s["value"]["offset"]) for s in sent] == [
            (0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
        assert poll_until(client, 6) == {"0": [[0, 0], [1, 2], [2, 4]], "1": [[0, 1], [1, 3], [2, 5]]}
        assert high_watermarks(spec.options, broker.bootstrap) == {0: 3, 1: 3}
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_acks_0_sends_are_acknowledged_without_offsets_and_still_read(broker, name):
    spec = spec_for(name, "acks0", acks="0")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    try:
        client.invoke({"f": "assign", "value": [0]})
        completion = client.invoke({"f": "send", "value": {"partition": 0, "value": 5}})
        assert completion == {"type": "ok", "value": {"partition": 0, "offset": None, "value": 5}}
        assert poll_until(client, 1) == {"0": [[0, 5]]}
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_reassigning_keeps_positions_of_partitions_kept(broker, name):
    spec = spec_for(name, "keep")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    try:
        client.invoke({"f": "assign", "value": [0, 1]})
        for v in range(4):
            client.invoke({"f": "send", "value": {"partition": v % 2, "value": v}})
        assert poll_until(client, 4) == {"0": [[0, 0], [1, 2]], "1": [[0, 1], [1, 3]]}
        client.invoke({"f": "assign", "value": [1]})
        client.invoke({"f": "send", "value": {"partition": 1, "value": 4}})
        assert poll_until(client, 1) == {"1": [[2, 4]]}
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_a_send_to_a_partition_that_does_not_exist_fails(broker, name):
    spec = spec_for(name, "missing")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    try:
        client.invoke({"f": "send", "value": {"partition": 0, "value": 1}})
        completion = client.invoke({"f": "send", "value": {"partition": 7, "value": 2}})
        assert completion["type"] == "fail", completion
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_log_starts_of_a_partition_that_does_not_exist_fail(broker, name):
    spec = spec_for(name, "nostart")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    try:
        assert client.invoke({"f": "log-starts", "value": [0, 1]}) == {"type": "ok", "value": {"0": 0, "1": 0}}
        completion = client.invoke({"f": "log-starts", "value": [0, 7]})
        assert completion["type"] == "fail" and completion["error"], completion
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_a_send_to_a_stopped_broker_has_an_unknown_outcome(broker, name):
    spec = spec_for(name, "paused")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    pid = listener_pid(broker.port)
    try:
        assert client.invoke({"f": "send", "value": {"partition": 0, "value": 1}})["type"] == "ok"
        os.kill(pid, signal.SIGSTOP)
        try:
            completion = client.invoke({"f": "send", "value": {"partition": 0, "value": 2}})
        finally:
            os.kill(pid, signal.SIGCONT)
        assert completion["type"] == "info", completion
        assert completion["error"]
    finally:
        client.close()


@pytest.mark.parametrize("name", CLIENTS)
def test_every_op_on_a_stopped_broker_ends_after_the_op_timeout(broker, name):
    """A worker must come back from a dead leader: an assign that has to look up where it is, and log-starts,
    end (here within a 2 s op timeout) instead of waiting for the broker."""
    spec = spec_for(name, "stopped")
    create_topic(spec.options, broker.bootstrap)
    client = open_client(spec, broker.bootstrap, 0)
    pid = listener_pid(broker.port)
    try:
        assert client.invoke({"f": "assign", "value": [0, 1]})["type"] == "ok"
        os.kill(pid, signal.SIGSTOP)
        ended = []
        try:
            for op in ({"f": "assign", "value": [0]}, {"f": "log-starts", "value": [0, 1]},
                       {"f": "poll", "value": None}):
                worker = threading.Thread(target=lambda op=op: ended.append(client.invoke(op)["type"]), daemon=True)
                worker.start()
                worker.join(spec.op_timeout + 10)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert len(ended) == 3, ended
    finally:
        client.close()


def test_unknown_operations_fail():
    from workloads.queue.client import QueueClient

    class Nothing(QueueClient):
        send = poll = assign = subscribe = log_starts = close = None  # type: ignore[assignment]

    assert Nothing(spec_for("confluent-kafka", "x"), "", 0).invoke({"f": "crash"})["type"] == "fail"


@pytest.fixture(scope="module")
def retaining_broker(tmp_path_factory):
    """A broker that applies retention every 100 ms."""
    with BrokerProcess(tmp_path_factory.mktemp("retaining") / "data", **{"log.retention.check.interval.ms": 100}) as b:
        yield b


def create_retaining_topic(bootstrap: str, topic: str) -> None:
    """retention.bytes 1: retention deletes every segment but the active one, which holds the last send alone."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    config = {"segment.bytes": str(SEGMENT_BYTES), "retention.bytes": "1"}
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config=config)])[topic].result(30)


def log_starts_once_at(client, offset: int) -> dict:
    """The first log-starts completion that reports partition 0 starting at `offset` (retention runs on its own)."""
    deadline = time.monotonic() + 30
    while True:
        completion = client.invoke({"f": "log-starts", "value": [0]})
        if completion["type"] == "ok" and completion["value"] == {"0": offset} or time.monotonic() > deadline:
            return completion
        time.sleep(0.1)


@pytest.mark.parametrize("name", CLIENTS)
def test_log_starts_show_what_retention_deleted_and_the_checker_calls_it_deleted(retaining_broker, name):
    spec = spec_for(name, "retained", partitions=1)
    create_retaining_topic(retaining_broker.bootstrap, spec.options.topic)
    client = open_client(spec, retaining_broker.bootstrap, 0)
    history, sends = History(), 12
    try:
        assert client.invoke({"f": "log-starts", "value": [0]}) == {"type": "ok", "value": {"0": 0}}
        for value in range(sends):
            asked = {"partition": 0, "value": value}
            completion = client.invoke({"f": "send", "value": asked})
            assert completion == {"type": "ok", "value": {"partition": 0, "offset": value, "value": value}}
            history.op(0, "send", asked, "ok", completion["value"])
        log_starts = log_starts_once_at(client, sends - 1)
        assert log_starts == {"type": "ok", "value": {"0": sends - 1}}
        history.op(1, "log-starts", [0], "ok", log_starts["value"])
        history.assign(1, [0])
        assert client.invoke({"f": "assign", "value": [0]})["type"] == "ok"
        reads = poll_until(client, 1)
        assert reads == {"0": [[sends - 1, sends - 1]]}, "a consumer from the beginning starts at the log start"
        history.poll(1, {0: reads["0"]})
    finally:
        client.close()
    result = check_queue(TEST, history.events)
    assert result["valid"] is True, result["reasons"]
    assert {name: a["count"] for name, a in result["anomalies"].items() if a["count"]} == {}
    assert result["retention"]["deleted"] == sends - 1
    assert result["retention"]["log_starts"] == {"0": sends - 1}
    unobserved = check_queue(TEST, [e for e in history.events if e["f"] != "log-starts"])
    assert unobserved["anomalies"]["lost-write"]["count"] == sends - 1, "without the log start they are lost"
