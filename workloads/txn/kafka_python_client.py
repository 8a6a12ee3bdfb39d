"""The transactional client on kafka-python: its transactional producer, bounded, and a consumer of one isolation level."""

from __future__ import annotations

from typing import Any

import kafka.errors
from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from workloads.queue.client import KafkaPythonClient
from workloads.txn.client import TxnClient

CLOSING_SECONDS = 1.0
"""How long a closing producer's stopped I/O thread gets to fail its unfinished batches."""


class BoundedTxnProducer(KafkaProducer):
    """kafka-python's commit_transaction and abort_transaction wait without bound, where Java's producer gives up
    after max.block.ms; a coordinator that never finishes a transaction would hang the run. These wait as long
    as init_transactions does (max_block_ms) and raise KafkaTimeoutError after that, the outcome unknown."""

    def commit_transaction(self) -> None:
        self._bounded(self._transaction_manager.begin_commit(), "committing")

    def abort_transaction(self) -> None:
        self._bounded(self._transaction_manager.begin_abort(), "aborting")

    def close(self, timeout: float | None = None, null_logger: bool = False) -> None:
        """kafka-python's close flushes first and, with a batch still in flight (to a leader that a fault holds),
        raises before it stops its I/O thread, which then runs on until __del__ tries again. Here the thread is
        stopped (its unfinished batches failed) and the close done again."""
        try:
            super().close(timeout, null_logger)
        except kafka.errors.KafkaTimeoutError:
            self._sender.force_close()
            self._sender.join(CLOSING_SECONDS)
            super().close(0, null_logger)

    def _bounded(self, result: Any, doing: str) -> None:
        self._sender.wakeup()
        if not result.wait(timeout_ms=self.config["max_block_ms"]):
            raise kafka.errors.KafkaTimeoutError(f"{doing} the transaction took over {self.config['max_block_ms']} ms")


class KafkaPythonTxnClient(TxnClient, KafkaPythonClient):
    producer_type = BoundedTxnProducer
    outcome_errors = (kafka.errors.KafkaError, AssertionError, ValueError)
    """AssertionError and ValueError: kafka-python's answer to a bad state or bad arguments."""

    def producer_settings(self) -> dict[str, Any]:
        transactional_id = self.transactional_id()
        if transactional_id is None:
            return {}
        return {"transactional_id": transactional_id, "transaction_timeout_ms": 3 * int(self.spec.op_timeout * 1000)}

    def consumer_settings(self) -> dict[str, Any]:
        return {"isolation_level": self.txn_options.isolation_level}

    def _init_transactions(self) -> None:
        self._producer.init_transactions()

    def _begin_transaction(self) -> None:
        self._producer.begin_transaction()

    def _send_record(self, key: int, value: Any) -> FutureRecordMetadata:
        return self._producer.send(self.options.topic, str(value).encode(), partition=key)

    def _flush_sends(self) -> None:
        self._producer.flush(timeout=self.spec.op_timeout)

    def _commit_transaction(self) -> None:
        self._producer.commit_transaction()

    def _abort_transaction(self) -> None:
        self._producer.abort_transaction()

    def _wait_acknowledged(self, handle: FutureRecordMetadata) -> None:
        handle.get(timeout=self.spec.op_timeout)

    def _sent_offset(self, handle: FutureRecordMetadata) -> int | None:
        return handle.value.offset if handle.succeeded() else None

    def _forget_positions(self) -> None:
        self._consumer.unsubscribe()
