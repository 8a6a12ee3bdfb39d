"""The queue client: one real Kafka client per process, both producer and consumer (Jepsen's shape).

`invoke(op)` performs a send, poll, assign, subscribe or log-starts and returns its completion
{"type", "value", "error"?}. What matters most is the outcome of a send: `ok` only with a
delivery report, `fail` only when the broker definitely refused it before appending and no
earlier attempt can have been appended (retries off, no idempotent retries, and a client that does
not resend on its own: librdkafka resends after a leader change whatever `retries` says, so its
broker refusals are `info`), `info` for everything else: timeouts, lost connections,
NOT_ENOUGH_REPLICAS_AFTER_APPEND, refusals after retries. No send is ever retried here; connecting and metadata are the only retried steps.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import kafka.errors
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaPythonTopicPartition
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from harness.seams import Completion, failed, ok, unknown
from harness.spec import TestSpec
from workloads.queue.options import KafkaOptions, KafkaTopicOptions

LIBRDKAFKA_LOG = logging.getLogger("librdkafka")  # not stderr: the terminal shows progress
POLL_SECONDS = 0.1
"""How long a poll waits for a first record; it returns as soon as one is there (as Kafka's Java consumer does)."""
POLL_RECORDS = 500
# Refusals a broker gives before it appends anything (Kafka error codes).
REFUSED_BEFORE_APPEND = {
    "NOT_ENOUGH_REPLICAS": 19,
    "UNKNOWN_TOPIC_OR_PART": 3,
    "NOT_LEADER_FOR_PARTITION": 6,
    "MSG_SIZE_TOO_LARGE": 10,
    "INVALID_REQUIRED_ACKS": 21,
    "CORRUPT_MESSAGE": 2,
}


def decode_value(raw: bytes | None) -> Any:
    """Values are decimal ints; anything else (someone else's record) is kept as text."""
    text = (raw or b"").decode("utf-8", errors="replace")
    try:
        return int(text)
    except ValueError:
        return text


class QueueClient(ABC):
    def __init__(self, spec: TestSpec, bootstrap: str, process: int) -> None:
        self.spec = spec
        self.options = spec.options_as(KafkaTopicOptions)
        self.bootstrap = bootstrap
        self.process = process
        self.mode = self.options.mode

    def invoke(self, op: dict[str, Any]) -> Completion:
        handlers: dict[str, Callable[[Any], Completion]] = {
            "send": self.send, "poll": self.poll, "assign": self.assign, "subscribe": self.subscribe,
            "log-starts": self.log_starts}
        handler = handlers.get(op["f"])
        if handler is None:
            return failed(f"the queue client has no operation {op['f']!r}")
        return handler(op.get("value"))

    def _group_id(self, assigning: str | None) -> str | None:
        """Subscribers share one group (rebalances are the point); assigners never commit."""
        return f"logquake-{self.options.topic}" if self.options.mode == "subscribe" else assigning

    def acknowledged(self, value: dict[str, Any], offset: int | None) -> Completion:
        """Under acks=0 no broker answers, so whatever offset a client reports (None, -1, even 0) is invented."""
        known = offset if self.options.acks != "0" and offset is not None and offset >= 0 else None
        return ok({"partition": value["partition"], "offset": known, "value": value["value"]})

    @staticmethod
    def found_log_starts(starts: dict[int, int]) -> Completion:
        """A negative offset is a client's "unknown" (e.g. librdkafka's OFFSET_INVALID), not a log start."""
        unknown = sorted(partition for partition, offset in starts.items() if offset < 0)
        if unknown:
            return failed(f"no log start for partition(s) {unknown}")
        return ok({str(partition): offset for partition, offset in starts.items()})

    def refusal(self, error: str) -> Completion:
        """A broker's definite refusal is a fail only if no earlier attempt of this send can have landed."""
        if self.options.retries == 0 and not self.options.idempotence:
            return failed(error)
        return unknown(f"{error} (after client retries: an earlier attempt may have been appended)")

    @abstractmethod
    def send(self, value: dict[str, Any]) -> Completion: ...

    @abstractmethod
    def poll(self, value: None) -> Completion: ...

    @abstractmethod
    def assign(self, partitions: list[int]) -> Completion: ...

    @abstractmethod
    def subscribe(self, topics: list[str]) -> Completion: ...

    @abstractmethod
    def log_starts(self, partitions: list[int]) -> Completion:
        """Each partition's log start (ListOffsets EARLIEST) as {"<partition>": offset}: where retention has cut it.

        Reading changes nothing, so a partition that gives no answer makes the op `fail`."""

    @abstractmethod
    def close(self) -> None: ...


class ConfluentClient(QueueClient):
    def __init__(self, spec: TestSpec, bootstrap: str, process: int) -> None:
        super().__init__(spec, bootstrap, process)
        timeout_ms = int(spec.op_timeout * 1000)
        idempotent = self.options.idempotence or "transactional.id" in self.producer_settings()
        producer: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "client.id": f"logquake-{process}",
            "logger": LIBRDKAFKA_LOG,
            "acks": self.options.acks,
            "enable.idempotence": idempotent,
            "linger.ms": 0,
            "message.timeout.ms": timeout_ms,
            "request.timeout.ms": timeout_ms,
            **self.producer_settings(),
        }
        if self.options.retries or not idempotent:
            producer["retries"] = self.options.retries
        self._producer = Producer(producer)
        self._consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "client.id": f"logquake-{process}",
            "logger": LIBRDKAFKA_LOG,
            "group.id": self._group_id(f"logquake-{self.options.topic}-{process}"),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            **self.consumer_settings(),
        })

    def producer_settings(self) -> dict[str, Any]:
        """librdkafka producer settings a subclass adds (the transactional client's id, which makes it idempotent)."""
        return {}

    def consumer_settings(self) -> dict[str, Any]:
        """librdkafka consumer settings a subclass adds."""
        return {}

    def send(self, value: dict[str, Any]) -> Completion:
        report: dict[str, Any] = {}

        def delivered(error: Any, message: Any) -> None:
            report["error"], report["message"] = error, message

        try:
            self._producer.produce(self.options.topic, str(value["value"]).encode(), partition=value["partition"],
                                   on_delivery=delivered)
        except (BufferError, KafkaException) as error:
            return failed(f"not enqueued: {error}")
        deadline = time.monotonic() + self.spec.op_timeout + 5
        while "error" not in report and time.monotonic() < deadline:
            self._producer.poll(0.05)
        if "error" not in report:
            return unknown("no delivery report in time")
        delivery_error = report["error"]
        if delivery_error is None:
            return self.acknowledged(value, report["message"].offset())
        name = delivery_error.name()
        if name in ("_UNKNOWN_TOPIC", "_UNKNOWN_PARTITION"):
            return self.refusal(name)  # refused by librdkafka itself: no broker ever saw it
        if delivery_error.code() in REFUSED_BEFORE_APPEND.values():
            return unknown(f"{name} (librdkafka resends after NOT_LEADER_OR_FOLLOWER whatever `retries` says, so "
                           f"an earlier attempt may have been appended)")
        return unknown(name)

    def poll(self, value: None) -> Completion:
        try:
            messages = self._received()
        except KafkaException as error:
            return failed(str(error))
        reads: dict[str, list[list[Any]]] = {}
        errors: list[str] = []
        for message in messages:
            message_error = message.error()
            if message_error is not None:
                if message_error.code() != KafkaError._PARTITION_EOF:
                    errors.append(message_error.name())
                continue
            reads.setdefault(str(message.partition()), []).append([message.offset(), decode_value(message.value())])
        if errors and not reads:
            return failed(", ".join(errors))
        if reads and self.mode == "subscribe":
            self._commit()
        completion = ok(reads)
        if errors:
            completion["error"] = ", ".join(errors)
        return completion

    def _received(self) -> list[Any]:
        """What the consumer has fetched, up to POLL_RECORDS: librdkafka's consume(n, timeout) would wait the
        whole timeout for n records, so a poll cost POLL_SECONDS even when records were waiting."""
        first = self._consumer.poll(POLL_SECONDS)
        if first is None:
            return []
        return [first, *self._consumer.consume(POLL_RECORDS - 1, 0)]

    def _commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException:
            pass  # a lost commit only moves where the partition's next owner starts: allowed under subscribe

    def assign(self, partitions: list[int]) -> Completion:
        try:
            kept = {tp.partition: tp.offset for tp in self._consumer.position(self._consumer.assignment())
                    if tp.offset >= 0}
            self._consumer.assign([TopicPartition(self.options.topic, p, kept.get(p, OFFSET_BEGINNING))
                                   for p in partitions])
        except KafkaException as error:
            return failed(str(error))
        self.mode = "assign"
        return ok(partitions)

    def subscribe(self, topics: list[str]) -> Completion:
        try:
            self._consumer.subscribe(topics)
        except KafkaException as error:
            return failed(str(error))
        self.mode = "subscribe"
        return ok(topics)

    def log_starts(self, partitions: list[int]) -> Completion:
        starts = {}
        deadline = time.monotonic() + self.spec.op_timeout  # for all partitions together: the op is one op
        try:
            for partition in partitions:
                offsets = self._consumer.get_watermark_offsets(TopicPartition(self.options.topic, partition),
                                                               timeout=max(0.0, deadline - time.monotonic()))
                if offsets is None:
                    return failed(f"no log start for partition {partition} within {self.spec.op_timeout:g}s")
                starts[partition] = offsets[0]
        except KafkaException as error:
            return failed(str(error))
        return self.found_log_starts(starts)

    def close(self) -> None:
        self._producer.flush(0)
        self._consumer.close()


class KafkaPythonClient(QueueClient):
    producer_type: type[KafkaProducer] = KafkaProducer
    """The producer a subclass makes (the transactional client's bounds its waits)."""

    def __init__(self, spec: TestSpec, bootstrap: str, process: int) -> None:
        super().__init__(spec, bootstrap, process)
        timeout_ms = int(spec.op_timeout * 1000)
        servers = bootstrap.split(",")
        idempotent = self.options.idempotence or "transactional_id" in self.producer_settings()
        self._producer = self.producer_type(**{
            "bootstrap_servers": servers, "client_id": f"logquake-{process}",
            "acks": "all" if self.options.acks == "all" else int(self.options.acks),
            "enable_idempotence": idempotent,
            "retries": self.options.retries if self.options.retries or not idempotent else 5,
            "linger_ms": 0, "request_timeout_ms": timeout_ms, "delivery_timeout_ms": timeout_ms + 100,
            "max_block_ms": timeout_ms, **self.producer_settings()})
        self._consumer = KafkaConsumer(
            bootstrap_servers=servers, client_id=f"logquake-{process}",
            group_id=self._group_id(None),
            enable_auto_commit=False, auto_offset_reset="earliest", session_timeout_ms=6000,
            request_timeout_ms=max(timeout_ms, 6000 + 1000), **self.consumer_settings())

    def producer_settings(self) -> dict[str, Any]:
        """KafkaProducer settings a subclass adds (the transactional client's id, which makes it idempotent)."""
        return {}

    def consumer_settings(self) -> dict[str, Any]:
        """KafkaConsumer settings a subclass adds (the transactional client's isolation level)."""
        return {}

    def send(self, value: dict[str, Any]) -> Completion:
        try:
            future = self._producer.send(self.options.topic, str(value["value"]).encode(), partition=value["partition"])
        except (kafka.errors.KafkaError, ValueError) as error:
            return failed(f"not enqueued: {type(error).__name__}: {error}")
        try:
            metadata = future.get(timeout=self.spec.op_timeout + 5)
        except kafka.errors.KafkaError as error:
            code = getattr(error, "errno", None)
            if code in REFUSED_BEFORE_APPEND.values():
                return self.refusal(type(error).__name__)
            return unknown(f"{type(error).__name__}: {error}")
        return self.acknowledged(value, metadata.offset)

    def poll(self, value: None) -> Completion:
        try:
            batches = self._consumer.poll(timeout_ms=int(POLL_SECONDS * 1000), max_records=POLL_RECORDS)
        except kafka.errors.KafkaError as error:
            return failed(f"{type(error).__name__}: {error}")
        reads = {str(tp.partition): [[r.offset, decode_value(r.value)] for r in records]
                 for tp, records in batches.items() if records}
        if reads and self.mode == "subscribe":
            try:
                self._consumer.commit()
            except kafka.errors.KafkaError:
                pass  # a lost commit only moves where the partition's next owner starts: allowed under subscribe
        return ok(reads)

    def assign(self, partitions: list[int]) -> Completion:
        deadline = time.monotonic() + self.spec.op_timeout  # position() without a timeout waits for a dead leader
        try:
            kept = {tp.partition: self._consumer.position(tp, timeout_ms=self._remaining_ms(deadline))
                    for tp in self._consumer.assignment()}
            chosen = [KafkaPythonTopicPartition(self.options.topic, p) for p in partitions]
            self._consumer.assign(chosen)
            for tp in chosen:
                if kept.get(tp.partition) is not None:
                    self._consumer.seek(tp, kept[tp.partition])
                else:
                    self._consumer.seek_to_beginning(tp)
        except (kafka.errors.KafkaError, AssertionError, ValueError) as error:
            return failed(f"{type(error).__name__}: {error}")
        self.mode = "assign"
        return ok(partitions)

    @staticmethod
    def _remaining_ms(deadline: float) -> int:
        return max(0, int((deadline - time.monotonic()) * 1000))

    def subscribe(self, topics: list[str]) -> Completion:
        try:
            self._consumer.unsubscribe()
            self._consumer.subscribe(topics)
        except (kafka.errors.KafkaError, AssertionError, ValueError) as error:
            return failed(f"{type(error).__name__}: {error}")
        self.mode = "subscribe"
        return ok(topics)

    def log_starts(self, partitions: list[int]) -> Completion:
        chosen = [KafkaPythonTopicPartition(self.options.topic, p) for p in partitions]
        try:
            starts = self._consumer.beginning_offsets(chosen, timeout_ms=int(self.spec.op_timeout * 1000))
        except (kafka.errors.KafkaError, KeyError) as error:  # KeyError: a partition without an answer in time
            return failed(f"{type(error).__name__}: {error}")
        return self.found_log_starts({tp.partition: offset for tp, offset in starts.items()})

    def close(self) -> None:
        self._producer.close(timeout=0)
        self._consumer.close(autocommit=False)


# What the clients' constructors raise while no broker answers yet (kafka-python connects eagerly).
UNREACHABLE = (kafka.errors.RetriableError, kafka.errors.KafkaConnectionError)
CLIENTS: dict[str, type[QueueClient]] = {"confluent-kafka": ConfluentClient, "kafka-python": KafkaPythonClient}


def open_client(spec: TestSpec, bootstrap: str, process: int) -> QueueClient:
    """A connected client for one process; connecting is retried (it cannot hide an outcome)."""
    kind = CLIENTS[spec.options_as(KafkaOptions).client]
    connect: Callable[[TestSpec, str, int], QueueClient] = retry(
        stop=stop_after_delay(30), wait=wait_fixed(0.5), reraise=True, retry=retry_if_exception_type(UNREACHABLE))(kind)
    return connect(spec, bootstrap, process)
