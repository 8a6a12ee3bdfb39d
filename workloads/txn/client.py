"""How a transactional client runs one `txn` op, whatever its Kafka library.

A `txn` op's value is its micro-ops, ["send", key, value] and ["poll"], run in order inside one Kafka
transaction (begin, sends and polls, commit). The completion is what docs/txn-checker.md asks: `ok`
only when the commit returned, with each send's [offset, value] and each poll's records by key; `fail`
when the transaction surely did not commit (aborted on purpose with probability abort_p, error
"aborted", or the abort succeeded after an error); `info` when nobody knows (the commit or the abort
raised). The transactional id belongs to the worker thread, so the fresh process that follows an `info`
fences its predecessor and aborts whatever it left open (init_transactions runs before its first
transaction that sends; a poll-only one needs none). Assign, subscribe and plain polls are the queue
client's of the same library; the libraries' own calls are the subclasses' (kafka_python_client,
confluent_client).
"""

from __future__ import annotations

import random
from abc import abstractmethod
from typing import Any

from harness.seams import Completion, failed, ok, unknown
from harness.spec import TestSpec
from workloads.queue.client import QueueClient
from workloads.txn.operations import REREAD, TXN
from workloads.txn.options import TxnOptions

ABORTED = "aborted"
"""The error of a transaction aborted on purpose (abort_p)."""


class StepFailed(Exception):
    """A micro-op inside a transaction went wrong (a poll that failed, a send never acknowledged)."""


class TxnClient(QueueClient):
    outcome_errors: tuple[type[BaseException], ...] = ()
    """What the library raises for a request gone wrong; StepFailed is always among them."""

    def __init__(self, spec: TestSpec, bootstrap: str, process: int) -> None:
        self.txn_options = spec.options_as(TxnOptions)
        self.thread = process % spec.concurrency
        super().__init__(spec, bootstrap, process)
        self._aborts = random.Random(f"{spec.seed}-{process}")
        self._initialized = False

    def transactional_id(self) -> str | None:
        return f"logquake-{self.options.topic}-{self.thread}" if self.txn_options.txn else None

    def invoke(self, op: dict[str, Any]) -> Completion:
        if op["f"] == TXN:
            return self.txn(op["value"])
        if op["f"] == REREAD:
            return self.assign_from_start(op["value"])
        return super().invoke(op)

    def assign_from_start(self, partitions: list[int]) -> Completion:
        """The queue's assign keeps the positions of partitions already assigned; dropping them first reads all."""
        try:
            self._forget_positions()
        except self._errors() as error:
            return failed(f"{type(error).__name__}: {error}")
        return self.assign(partitions)

    def txn(self, micro_ops: list[list[Any]]) -> Completion:
        """One transaction: begun, its micro-ops run, then committed, or aborted on purpose with abort_p."""
        if not self.txn_options.txn or not any(micro_op[0] == "send" for micro_op in micro_ops):
            return self._alone(micro_ops)
        try:
            if not self._initialized:
                self._init_transactions()
                self._initialized = True
            self._begin_transaction()
        except self._errors() as error:
            return failed(f"beginning the transaction: {type(error).__name__}: {error}")
        try:
            results = [self._run(micro_op) for micro_op in micro_ops]
        except self._errors() as error:
            return self._abort(f"{type(error).__name__}: {error}")
        if self._aborts.random() < self.txn_options.abort_p:
            try:
                self._flush_sends()  # the aborted records reach the log, as Jepsen's do
            except self._errors():
                pass  # some may not have: the abort decides the outcome either way
            return self._abort(ABORTED)
        try:
            self._commit_transaction()
        except self._errors() as error:
            return unknown(f"commit: {type(error).__name__}: {error}")
        return ok([self._result(result) for result in results])

    def _run(self, micro_op: list[Any]) -> list[Any]:
        """A send (its handle until the transaction ends) or a poll (its records by key); raises if either fails."""
        if micro_op[0] == "send":
            _, key, value = micro_op
            return ["send", key, value, self._send_record(key, value)]
        polled = self.poll(None)
        if polled["type"] != "ok":
            raise StepFailed(f"poll: {polled.get('error')}")
        return ["poll", polled["value"]]

    def _abort(self, reason: str) -> Completion:
        """Surely not committed once the abort returned; if it raised, nobody knows."""
        try:
            self._abort_transaction()
        except self._errors() as error:
            return unknown(f"{reason}; abort: {type(error).__name__}: {error}")
        return failed(reason)

    def _alone(self, micro_ops: list[list[Any]]) -> Completion:
        """Without transactions each send stands alone: ok once every one of them was acknowledged. Polls alone
        need no producer transaction (one that writes nothing commits nothing), so a transactional id its
        coordinator holds up cannot stop them: they fail only if a poll does, and nothing was written."""
        if not any(micro_op[0] == "send" for micro_op in micro_ops):
            try:
                return ok([self._run(micro_op) for micro_op in micro_ops])
            except self._errors() as error:
                return failed(f"{type(error).__name__}: {error}")
        try:
            results = [self._run(micro_op) for micro_op in micro_ops]
            self._flush_sends()
            for result in results:
                if result[0] == "send":
                    self._wait_acknowledged(result[3])
        except self._errors() as error:
            return unknown(f"{type(error).__name__}: {error}")
        return ok([self._result(result) for result in results])

    def _result(self, result: list[Any]) -> list[Any]:
        """A micro-op's completed form: a send's [offset, value] (offset null when no acknowledgement says), a
        poll's records."""
        if result[0] == "poll":
            return result
        _, key, value, handle = result
        return ["send", key, [self._sent_offset(handle), value]]

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (*self.outcome_errors, StepFailed)

    @abstractmethod
    def _init_transactions(self) -> None: ...

    @abstractmethod
    def _begin_transaction(self) -> None: ...

    @abstractmethod
    def _send_record(self, key: int, value: Any) -> Any:
        """Hands the record to the producer; returns what later tells its offset."""

    @abstractmethod
    def _flush_sends(self) -> None:
        """Waits, at most the op timeout, until every record handed over was sent; raises if some were not."""

    @abstractmethod
    def _commit_transaction(self) -> None: ...

    @abstractmethod
    def _abort_transaction(self) -> None: ...

    @abstractmethod
    def _wait_acknowledged(self, handle: Any) -> None:
        """Raises unless the send was acknowledged."""

    @abstractmethod
    def _sent_offset(self, handle: Any) -> int | None: ...

    @abstractmethod
    def _forget_positions(self) -> None: ...
