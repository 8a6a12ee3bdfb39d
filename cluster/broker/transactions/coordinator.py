"""The transaction coordinator's decisions, as a sans-IO state machine.

Each request is checked against the transactional id's metadata and answered either with
an error at once or with the next metadata to write to __transaction_state: the caller
appends it (acks=all) and only then `apply`s it and answers, so what a client was told
survives the coordinator's crash. While a write is in flight the id is pending and other
requests for it are told CONCURRENT_TRANSACTIONS, which clients retry, as are requests
while a decided commit or abort is still writing its markers. Errors are those Kafka gives
clients of the non-flexible versions: a fenced producer gets INVALID_PRODUCER_EPOCH.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Iterable

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.transactions.state_records import TopicPartition, TxnMetadata, TxnState

MAX_EPOCH = 2**15 - 1
_PREPARED = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)
_ENDED = {TxnState.COMPLETE_COMMIT: True, TxnState.COMPLETE_ABORT: False}


@dataclass(frozen=True)
class Decision:
    """An error to answer at once (write None), or the metadata to write before answering `error`.

    InitProducerId on an open transaction writes its abort and still answers
    CONCURRENT_TRANSACTIONS: the producer retries once the abort is complete."""

    error: ErrorCode
    write: TxnMetadata | None = None


class TransactionCoordinator:
    def __init__(self, max_timeout_ms: int) -> None:
        self.max_timeout_ms = max_timeout_ms
        self._transactions: dict[str, TxnMetadata] = {}
        self._pending: set[str] = set()

    def get(self, transactional_id: str) -> TxnMetadata | None:
        return self._transactions.get(transactional_id)

    def init_producer_id(self, transactional_id: str, timeout_ms: int, now_ms: int,
                         new_producer_id: Callable[[], int]) -> Decision:
        """A new producer id for a new id; else the next epoch, which fences every older producer."""
        if not 0 < timeout_ms <= self.max_timeout_ms:
            return Decision(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
        if transactional_id in self._pending:
            return Decision(ErrorCode.CONCURRENT_TRANSACTIONS)
        current = self._transactions.get(transactional_id)
        if current is None:
            return Decision(ErrorCode.NONE, TxnMetadata(transactional_id, new_producer_id(), 0, timeout_ms,
                                                        TxnState.EMPTY, last_update_ms=now_ms))
        if current.state in _PREPARED:
            return Decision(ErrorCode.CONCURRENT_TRANSACTIONS)
        if current.state == TxnState.ONGOING:
            return Decision(ErrorCode.CONCURRENT_TRANSACTIONS, self.fenced_abort(current, now_ms))
        producer_id, epoch = current.producer_id, current.producer_epoch + 1
        if epoch > MAX_EPOCH:
            producer_id, epoch = new_producer_id(), 0
        return Decision(ErrorCode.NONE, dataclasses.replace(
            current, producer_id=producer_id, producer_epoch=epoch, timeout_ms=timeout_ms, state=TxnState.EMPTY,
            partitions=frozenset(), last_update_ms=now_ms, start_ms=-1))

    def add_partitions(self, transactional_id: str, producer_id: int, epoch: int,
                       partitions: Iterable[TopicPartition], now_ms: int) -> Decision:
        """Partitions join the open transaction (opening one); nothing to write if they all are in it."""
        current = self._transactions.get(transactional_id)
        error = self._producer_error(transactional_id, current, producer_id, epoch)
        if error is not ErrorCode.NONE:
            return Decision(error)
        assert current is not None
        if current.state in _PREPARED:
            return Decision(ErrorCode.CONCURRENT_TRANSACTIONS)
        wanted = frozenset(partitions)
        if current.state == TxnState.ONGOING and wanted <= current.partitions:
            return Decision(ErrorCode.NONE)
        start = current.start_ms if current.state == TxnState.ONGOING else now_ms
        return Decision(ErrorCode.NONE, dataclasses.replace(
            current, state=TxnState.ONGOING, partitions=current.partitions | wanted, last_update_ms=now_ms,
            start_ms=start))

    def end(self, transactional_id: str, producer_id: int, epoch: int, commit: bool, now_ms: int) -> Decision:
        """EndTxn: prepares the commit or abort; a retry of one already decided is answered as it was."""
        current = self._transactions.get(transactional_id)
        error = self._producer_error(transactional_id, current, producer_id, epoch)
        if error is not ErrorCode.NONE:
            return Decision(error)
        assert current is not None
        if current.state == TxnState.ONGOING:
            state = TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT
            return Decision(ErrorCode.NONE, dataclasses.replace(current, state=state, last_update_ms=now_ms))
        if current.state in _PREPARED:
            same = (current.state == TxnState.PREPARE_COMMIT) == commit
            return Decision(ErrorCode.CONCURRENT_TRANSACTIONS if same else ErrorCode.INVALID_TXN_STATE)
        if current.state in _ENDED and _ENDED[current.state] == commit:
            return Decision(ErrorCode.NONE)
        return Decision(ErrorCode.INVALID_TXN_STATE)

    @staticmethod
    def fenced_abort(current: TxnMetadata, now_ms: int) -> TxnMetadata:
        """The abort of a transaction its producer will not end (timed out, or a new producer took its id):
        the epoch is bumped first, so the markers and every later request fence the old producer."""
        epoch = min(current.producer_epoch + 1, MAX_EPOCH)
        return dataclasses.replace(current, producer_epoch=epoch, state=TxnState.PREPARE_ABORT, last_update_ms=now_ms)

    @staticmethod
    def completed(prepared: TxnMetadata, now_ms: int) -> TxnMetadata:
        """What to write once every marker of a prepared transaction is written."""
        state = TxnState.COMPLETE_COMMIT if prepared.state == TxnState.PREPARE_COMMIT else TxnState.COMPLETE_ABORT
        return dataclasses.replace(prepared, state=state, partitions=frozenset(), last_update_ms=now_ms, start_ms=-1)

    def timed_out(self, now_ms: int) -> list[TxnMetadata]:
        """Open transactions past their timeout and not being changed: to be aborted with fenced_abort."""
        return [txn for txn in self._transactions.values()
                if txn.state == TxnState.ONGOING and txn.transactional_id not in self._pending
                and txn.start_ms + txn.timeout_ms < now_ms]

    def prepared(self) -> list[TxnMetadata]:
        """Decided transactions whose markers are still to be written (after a coordinator failover, say)."""
        return [txn for txn in self._transactions.values() if txn.state in _PREPARED]

    def begin_write(self, metadata: TxnMetadata) -> None:
        self._pending.add(metadata.transactional_id)

    def end_write(self, metadata: TxnMetadata, written: bool) -> None:
        """The write's outcome: the metadata takes effect only if it was written."""
        self._pending.discard(metadata.transactional_id)
        if written:
            self._transactions[metadata.transactional_id] = metadata

    def replay(self, transactional_id: str, metadata: TxnMetadata | None) -> None:
        """One record of __transaction_state, in log order; None is a tombstone."""
        if metadata is None:
            self._transactions.pop(transactional_id, None)
        else:
            self._transactions[transactional_id] = metadata

    def unload(self, owned: Callable[[str], bool]) -> None:
        """Forgets the ids of a __transaction_state partition this broker no longer leads."""
        for transactional_id in [t for t in self._transactions if owned(t)]:
            del self._transactions[transactional_id]
            self._pending.discard(transactional_id)

    def _producer_error(self, transactional_id: str, current: TxnMetadata | None, producer_id: int,
                        epoch: int) -> ErrorCode:
        if current is None or current.producer_id != producer_id:
            return ErrorCode.INVALID_PRODUCER_ID_MAPPING
        if epoch != current.producer_epoch:
            return ErrorCode.INVALID_PRODUCER_EPOCH
        if transactional_id in self._pending:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        return ErrorCode.NONE
