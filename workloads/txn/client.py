"""The transactional client: kafka-python's transactional producer and a consumer of one isolation level.

A `txn` op's value is its micro-ops, ["send", key, value] and ["poll"], run in order inside one Kafka
transaction (begin, sends and polls, commit). The completion is what docs/txn-checker.md asks: `ok`
only when commit_transaction returned, with each send's [offset, value] and each poll's records by
key; `fail` when the transaction surely did not commit (aborted on purpose with probability
abort_p, error "aborted", or abort_transaction succeeded after an error); `info` when nobody knows
(commit_transaction or abort_transaction raised). The transactional id belongs to the worker thread,
so the fresh process that follows an `info` fences its predecessor and aborts whatever it left open
(init_transactions runs before its first transaction that sends; a poll-only one needs none).
Assign, subscribe and plain polls are the queue's kafka-python client's.
"""

from __future__ import annotations

import random
from typing import Any

import kafka.errors
from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from harness.seams import Completion, failed, ok, unknown
from harness.spec import TestSpec
from workloads.queue.client import KafkaPythonClient
from workloads.txn.operations import REREAD, TXN
from workloads.txn.options import TxnOptions

ABORTED = "aborted"
"""The error of a transaction aborted on purpose (abort_p)."""
CLOSING_SECONDS = 1.0
"""How long a closing producer's stopped I/O thread gets to fail its unfinished batches."""
OUTCOME_ERRORS = (kafka.errors.KafkaError, AssertionError, ValueError)
"""What kafka-python raises for a request gone wrong (AssertionError and ValueError: bad state or arguments)."""


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


class TxnClient(KafkaPythonClient):
    producer_type = BoundedTxnProducer

    def __init__(self, spec: TestSpec, bootstrap: str, process: int) -> None:
        self.txn_options = spec.options_as(TxnOptions)
        self.thread = process % spec.concurrency
        super().__init__(spec, bootstrap, process)
        self._aborts = random.Random(f"{spec.seed}-{process}")
        self._initialized = False

    def producer_settings(self) -> dict[str, Any]:
        if not self.txn_options.txn:
            return {}
        timeout_ms = int(self.spec.op_timeout * 1000)
        return {"transactional_id": f"logquake-{self.options.topic}-{self.thread}",
                "transaction_timeout_ms": 3 * timeout_ms}

    def consumer_settings(self) -> dict[str, Any]:
        return {"isolation_level": self.txn_options.isolation_level}

    def invoke(self, op: dict[str, Any]) -> Completion:
        if op["f"] == TXN:
            return self.txn(op["value"])
        if op["f"] == REREAD:
            return self.assign_from_start(op["value"])
        return super().invoke(op)

    def assign_from_start(self, partitions: list[int]) -> Completion:
        """The queue's assign keeps the positions of partitions already assigned; dropping them first reads all."""
        try:
            self._consumer.unsubscribe()
        except OUTCOME_ERRORS as error:
            return failed(f"{type(error).__name__}: {error}")
        return self.assign(partitions)

    def txn(self, micro_ops: list[list[Any]]) -> Completion:
        """One transaction: begun, its micro-ops run, then committed, or aborted on purpose with abort_p."""
        if not self.txn_options.txn or not any(micro_op[0] == "send" for micro_op in micro_ops):
            return self._alone(micro_ops)
        try:
            if not self._initialized:
                self._producer.init_transactions()
                self._initialized = True
            self._producer.begin_transaction()
        except OUTCOME_ERRORS as error:
            return failed(f"beginning the transaction: {type(error).__name__}: {error}")
        try:
            results = [self._run(micro_op) for micro_op in micro_ops]
        except OUTCOME_ERRORS as error:
            return self._abort(f"{type(error).__name__}: {error}")
        if self._aborts.random() < self.txn_options.abort_p:
            try:
                self._producer.flush(timeout=self.spec.op_timeout)  # the aborted records reach the log, as Jepsen's do
            except OUTCOME_ERRORS:
                pass  # some may not have: the abort decides the outcome either way
            return self._abort(ABORTED)
        try:
            self._producer.commit_transaction()
        except OUTCOME_ERRORS as error:
            return unknown(f"commit_transaction: {type(error).__name__}: {error}")
        return ok([_result(result) for result in results])

    def _run(self, micro_op: list[Any]) -> list[Any]:
        """A send (its future until the transaction ends) or a poll (its records by key); raises if either fails."""
        if micro_op[0] == "send":
            _, key, value = micro_op
            return ["send", key, value, self._producer.send(self.options.topic, str(value).encode(), partition=key)]
        polled = self.poll(None)
        if polled["type"] != "ok":
            raise kafka.errors.KafkaError(f"poll: {polled.get('error')}")
        return ["poll", polled["value"]]

    def _abort(self, reason: str) -> Completion:
        """Surely not committed once abort_transaction returned; if it raised, nobody knows."""
        try:
            self._producer.abort_transaction()
        except OUTCOME_ERRORS as error:
            return unknown(f"{reason}; abort_transaction: {type(error).__name__}: {error}")
        return failed(reason)

    def _alone(self, micro_ops: list[list[Any]]) -> Completion:
        """Without transactions each send stands alone: ok once every one of them was acknowledged. Polls alone
        need no producer transaction (one that writes nothing commits nothing), so a transactional id its
        coordinator holds up cannot stop them: they fail only if a poll does, and nothing was written."""
        if not any(micro_op[0] == "send" for micro_op in micro_ops):
            try:
                return ok([self._run(micro_op) for micro_op in micro_ops])
            except OUTCOME_ERRORS as error:
                return failed(f"{type(error).__name__}: {error}")
        try:
            results = [self._run(micro_op) for micro_op in micro_ops]
            self._producer.flush(timeout=self.spec.op_timeout)
            for result in results:
                if result[0] == "send":
                    result[3].get(timeout=self.spec.op_timeout)
        except OUTCOME_ERRORS as error:
            return unknown(f"{type(error).__name__}: {error}")
        return ok([_result(result) for result in results])


def _result(result: list[Any]) -> list[Any]:
    """A micro-op's completed form: a send's [offset, value] (offset null when no acknowledgement says), a poll's
    records."""
    if result[0] == "poll":
        return result
    _, key, value, future = result
    offset = future.value.offset if isinstance(future, FutureRecordMetadata) and future.succeeded() else None
    return ["send", key, [offset, value]]
