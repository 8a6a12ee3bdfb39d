"""The transactional client on confluent-kafka (librdkafka): its transactional producer and a consumer of one
isolation level.

librdkafka bounds every transactional call by the timeout it is given (the op timeout here) and finds a new
coordinator by itself when one dies, where kafka-python asks the old one again and waits.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException

from workloads.queue.client import ConfluentClient
from workloads.txn.client import StepFailed, TxnClient

Delivery = dict[str, Any]
"""A send's delivery report as the callback leaves it: {"error": KafkaError | None, "message": Message}."""


class ConfluentTxnClient(TxnClient, ConfluentClient):
    outcome_errors = (KafkaException, BufferError)
    """BufferError: the producer's queue is full, so the record was never handed over."""

    def producer_settings(self) -> dict[str, Any]:
        transactional_id = self.transactional_id()
        if transactional_id is None:
            return {}
        return {"transactional.id": transactional_id, "transaction.timeout.ms": 3 * int(self.spec.op_timeout * 1000)}

    def consumer_settings(self) -> dict[str, Any]:
        return {"isolation.level": self.txn_options.isolation_level}

    def _init_transactions(self) -> None:
        self._producer.init_transactions(self.spec.op_timeout)

    def _begin_transaction(self) -> None:
        self._producer.begin_transaction()

    def _send_record(self, key: int, value: Any) -> Delivery:
        delivery: Delivery = {}

        def delivered(error: Any, message: Any) -> None:
            delivery["error"], delivery["message"] = error, message

        self._producer.produce(self.options.topic, str(value).encode(), partition=key, on_delivery=delivered)
        return delivery

    def _flush_sends(self) -> None:
        waiting = self._producer.flush(self.spec.op_timeout)
        if waiting:
            raise StepFailed(f"{waiting} record(s) not sent within {self.spec.op_timeout:g}s")

    def _commit_transaction(self) -> None:
        """commit_transaction flushes first; the flush before it serves the delivery reports that tell offsets."""
        self._flush_sends()
        self._producer.commit_transaction(self.spec.op_timeout)

    def _abort_transaction(self) -> None:
        self._producer.abort_transaction(self.spec.op_timeout)

    def _wait_acknowledged(self, handle: Delivery) -> None:
        if "error" not in handle:
            raise StepFailed("no delivery report")
        if handle["error"] is not None:
            raise KafkaException(handle["error"])

    def _sent_offset(self, handle: Delivery) -> int | None:
        if handle.get("error") is not None or "message" not in handle:
            return None
        offset = handle["message"].offset()
        return offset if offset >= 0 else None

    def _forget_positions(self) -> None:
        self._consumer.unassign()
