"""The log client: the queue workload's confluent-kafka client, whose sends are the appends, plus reads by offset.

An append is the queue client's send under acks=all: `ok` with the offset the broker gave it,
`fail` only when the broker refused it before appending, `info` otherwise. A read asks the
partition's leader where the log starts and where its high watermark is (everything below is
committed), picks an offset in between (or takes the one it was given), assigns the partition at
that offset and takes the first record: `ok` with the offset actually read and its value. A read
of a given offset at or beyond the high watermark is `ok` with value null: the log does not reach
it. A read that learned nothing (no record committed yet, no answer in time) changed nothing:
`fail`.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import KafkaException, TopicPartition

from harness.seams import Completion, failed, ok
from workloads.queue.client import POLL_SECONDS, ConfluentClient, decode_value


class LogClient(ConfluentClient):
    def consumer_settings(self) -> dict[str, Any]:
        """A fetch the broker holds open (500 ms by default) would delay the next assign's first record as much."""
        return {"fetch.wait.max.ms": 10}

    def invoke(self, op: dict[str, Any]) -> Completion:
        if op["f"] == "append":
            return self.send(op["value"])
        if op["f"] == "read":
            return self.read(op["value"])
        return failed(f"the log client has no operation {op['f']!r}")

    def read(self, value: dict[str, Any]) -> Completion:
        partition = value["partition"]
        deadline = time.monotonic() + self.spec.op_timeout  # for asking and reading together
        try:
            start, end = self._consumer.get_watermark_offsets(TopicPartition(self.options.topic, partition),
                                                              timeout=self.spec.op_timeout)
            if "offset" in value:
                offset = value["offset"]
                if offset >= end:
                    return ok({"partition": partition, "offset": offset, "value": None})
            elif end <= start:
                return failed(f"nothing committed yet (log start {start}, high watermark {end})")
            else:
                offset = start + min(end - start - 1, int(value["fraction"] * (end - start)))
            self._consumer.assign([TopicPartition(self.options.topic, partition, offset)])
            while time.monotonic() < deadline:
                for message in self._consumer.consume(1, POLL_SECONDS):
                    if message.error() is None:
                        return ok({"partition": partition, "offset": message.offset(),
                                   "value": decode_value(message.value())})
        except KafkaException as error:
            return failed(f"read nothing: {error}")
        return failed(f"read nothing at offset {offset} within {self.spec.op_timeout:g}s")
