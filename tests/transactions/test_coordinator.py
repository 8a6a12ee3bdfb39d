"""The transaction coordinator's decisions, without sockets or logs (every decision's write succeeds
unless a test says otherwise)."""

import itertools

import pytest

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.transactions.coordinator import MAX_EPOCH, Decision, TransactionCoordinator
from cluster.broker.transactions.state_records import TxnState

TIMEOUT = 60_000


class Driven:
    """A coordinator whose decisions are written as soon as they are made."""

    def __init__(self) -> None:
        self.coordinator = TransactionCoordinator(max_timeout_ms=900_000)
        self._ids = itertools.count(100)
        self.now = 1_000

    def write(self, decision: Decision) -> ErrorCode:
        if decision.write is not None:
            self.coordinator.begin_write(decision.write)
            self.coordinator.end_write(decision.write, written=True)
        return decision.error

    def init(self, transactional_id: str = "t", timeout_ms: int = TIMEOUT) -> ErrorCode:
        return self.write(self.coordinator.init_producer_id(transactional_id, timeout_ms, self.now,
                                                            lambda: next(self._ids)))

    def add(self, *partitions, producer=None) -> ErrorCode:
        pid, epoch = producer or self.producer()
        return self.write(self.coordinator.add_partitions("t", pid, epoch, partitions, self.now))

    def end(self, commit: bool, producer=None) -> ErrorCode:
        pid, epoch = producer or self.producer()
        return self.write(self.coordinator.end("t", pid, epoch, commit, self.now))

    def complete(self) -> None:
        """The markers are written."""
        [prepared] = self.coordinator.prepared()
        self.write(Decision(ErrorCode.NONE, self.coordinator.completed(prepared, self.now)))

    def producer(self) -> tuple[int, int]:
        txn = self.coordinator.get("t")
        return txn.producer_id, txn.producer_epoch

    def state(self) -> TxnState:
        return self.coordinator.get("t").state


def test_a_transaction_runs_from_empty_to_complete_commit():
    driven = Driven()
    assert driven.init() is ErrorCode.NONE
    assert driven.producer() == (100, 0) and driven.state() is TxnState.EMPTY
    assert driven.add(("a", 0)) is ErrorCode.NONE
    assert driven.add(("a", 0)) is ErrorCode.NONE  # already in: nothing written
    assert driven.add(("b", 1)) is ErrorCode.NONE
    assert driven.coordinator.get("t").partitions == {("a", 0), ("b", 1)}
    assert driven.end(commit=True) is ErrorCode.NONE
    assert driven.state() is TxnState.PREPARE_COMMIT
    assert driven.add(("a", 0)) is ErrorCode.CONCURRENT_TRANSACTIONS  # markers being written
    assert driven.end(commit=True) is ErrorCode.CONCURRENT_TRANSACTIONS
    assert driven.end(commit=False) is ErrorCode.INVALID_TXN_STATE
    driven.complete()
    assert driven.state() is TxnState.COMPLETE_COMMIT and not driven.coordinator.get("t").partitions
    assert driven.end(commit=True) is ErrorCode.NONE  # a retry of the commit
    assert driven.end(commit=False) is ErrorCode.INVALID_TXN_STATE


def test_a_new_producer_bumps_the_epoch_and_the_old_one_is_fenced():
    driven = Driven()
    driven.init()
    old = driven.producer()
    driven.add(("a", 0))
    assert driven.init() is ErrorCode.CONCURRENT_TRANSACTIONS  # the open transaction is aborted first
    assert driven.state() is TxnState.PREPARE_ABORT and driven.producer() == (old[0], old[1] + 1)
    driven.complete()
    assert driven.init() is ErrorCode.NONE
    assert driven.producer() == (old[0], old[1] + 2)
    assert driven.add(("a", 0), producer=old) is ErrorCode.INVALID_PRODUCER_EPOCH
    assert driven.end(True, producer=old) is ErrorCode.INVALID_PRODUCER_EPOCH
    assert driven.add(("a", 0), producer=(7, 0)) is ErrorCode.INVALID_PRODUCER_ID_MAPPING


def test_an_exhausted_epoch_takes_a_new_producer_id():
    driven = Driven()
    driven.init()
    for _ in range(MAX_EPOCH):
        driven.init()
    assert driven.producer() == (100, MAX_EPOCH)
    driven.init()
    assert driven.producer() == (101, 0)


def test_only_open_transactions_past_their_timeout_are_due_for_abort():
    driven = Driven()
    driven.init(timeout_ms=100)
    assert driven.coordinator.timed_out(driven.now + 1_000) == []  # nothing open
    driven.add(("a", 0))
    assert driven.coordinator.timed_out(driven.now + 100) == []
    [due] = driven.coordinator.timed_out(driven.now + 101)
    aborted = driven.coordinator.fenced_abort(due, driven.now + 101)
    assert (aborted.state, aborted.producer_epoch) == (TxnState.PREPARE_ABORT, due.producer_epoch + 1)


@pytest.mark.parametrize("timeout_ms", [0, -1, 900_001])
def test_timeouts_outside_the_allowed_range_are_refused(timeout_ms):
    assert Driven().init(timeout_ms=timeout_ms) is ErrorCode.INVALID_TRANSACTION_TIMEOUT


def test_requests_during_a_write_are_told_to_retry_and_a_failed_write_changes_nothing():
    driven = Driven()
    driven.init()
    pid, epoch = driven.producer()
    decision = driven.coordinator.add_partitions("t", pid, epoch, [("a", 0)], driven.now)
    driven.coordinator.begin_write(decision.write)
    assert driven.end(True, producer=(pid, epoch)) is ErrorCode.CONCURRENT_TRANSACTIONS
    assert driven.init() is ErrorCode.CONCURRENT_TRANSACTIONS
    driven.coordinator.end_write(decision.write, written=False)
    assert driven.state() is TxnState.EMPTY
    assert driven.end(True) is ErrorCode.INVALID_TXN_STATE  # nothing is open


def test_a_successor_resumes_decided_transactions_from_the_replayed_log():
    driven = Driven()
    driven.init()
    driven.add(("a", 0))
    driven.end(commit=False)
    successor = TransactionCoordinator(max_timeout_ms=900_000)
    successor.replay("t", driven.coordinator.get("t"))
    successor.replay("gone", driven.coordinator.get("t"))
    successor.replay("gone", None)
    assert [txn.transactional_id for txn in successor.prepared()] == ["t"]
    successor.unload(lambda transactional_id: transactional_id == "t")
    assert successor.get("t") is None
