"""The log client against a real broker: appends get offsets, reads return what is at a committed offset."""

from __future__ import annotations

from logquake.registry import WORKLOADS
from workloads.log.client import LogClient
from workloads.queue.admin import create_topic


def test_reads_return_the_value_appended_at_a_committed_offset(broker) -> None:
    spec = WORKLOADS.spec(workload="log", brokers=1, keepers=0, replication_factor=1, min_insync=1, partitions=2,
                    topic="log-reads", op_timeout=5)
    create_topic(spec.options, broker.bootstrap)
    client = LogClient(spec, broker.bootstrap, 0)
    try:
        empty = client.invoke({"f": "read", "value": {"partition": 1, "fraction": 0.5}})
        assert empty["type"] == "fail" and "nothing committed yet" in empty["error"]
        appended = [client.invoke({"f": "append", "value": {"partition": 1, "value": v}}) for v in range(10, 15)]
        assert [a["value"] for a in appended] == [{"partition": 1, "offset": o, "value": 10 + o} for o in range(5)]
        for fraction, offset in ((0.0, 0), (0.5, 2), (0.99, 4)):
            read = client.invoke({"f": "read", "value": {"partition": 1, "fraction": fraction}})
            assert read == {"type": "ok", "value": {"partition": 1, "offset": offset, "value": 10 + offset}}
        for offset, read in ((3, 13), (5, None), (9, None)):  # named offsets; the log ends before 5
            assert client.invoke({"f": "read", "value": {"partition": 1, "offset": offset}}) == {
                "type": "ok", "value": {"partition": 1, "offset": offset, "value": read}}
        assert client.invoke({"f": "send", "value": {"partition": 0, "value": 1}})["type"] == "fail"
    finally:
        client.close()
