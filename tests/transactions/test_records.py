"""The layouts transactions write: __transaction_state keys and values, commit/abort markers, .txnindex files."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.internal_records import InternalRecordError
from cluster.broker.protocol.record_batch import BatchHeader
from cluster.broker.protocol.records import Record, build_batch
from cluster.broker.transactions import txn_index
from cluster.broker.transactions.markers import MarkerError, is_commit, marker_batch
from cluster.broker.transactions.partition_state import AbortedTransaction
from cluster.broker.transactions.state_records import (
    TxnMetadata,
    TxnState,
    decode_key,
    decode_value,
    encode_key,
    encode_value,
)

names = st.text(min_size=1, max_size=20)
metadata = st.builds(
    TxnMetadata,
    transactional_id=names,
    producer_id=st.integers(0, 2**63 - 1),
    producer_epoch=st.integers(0, 2**15 - 1),
    timeout_ms=st.integers(1, 2**31 - 1),
    state=st.sampled_from(TxnState),
    partitions=st.frozensets(st.tuples(names, st.integers(0, 2**31 - 1)), max_size=5),
    last_update_ms=st.integers(-1, 2**62),
    start_ms=st.integers(-1, 2**62),
)


@given(metadata)
def test_transaction_state_records_round_trip(value):
    transactional_id = decode_key(encode_key(value.transactional_id))
    assert decode_value(transactional_id, encode_value(value)) == value


def test_a_value_in_kafkas_layout_is_read():
    """TransactionLogValue v0 as Kafka writes it: one topic with partitions 0 and 2, PrepareCommit."""
    value = bytes.fromhex("0000" "0000000000000007" "0003" "0000ea60" "02" "00000001" "0001" "74"
                          "00000002" "00000000" "00000002" "0000000000000064" "0000000000000032")
    assert decode_value("id", value) == TxnMetadata("id", 7, 3, 60_000, TxnState.PREPARE_COMMIT,
                                                   frozenset({("t", 0), ("t", 2)}), 100, 50)


@pytest.mark.parametrize("damaged", [b"", b"\x00\x01\x00\x00", b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x03"])
def test_damaged_state_values_are_refused(damaged):
    with pytest.raises(InternalRecordError):
        decode_value("id", damaged)


@pytest.mark.parametrize("commit", [True, False])
def test_a_marker_says_how_its_transaction_ended(commit):
    batch = marker_batch(producer_id=9, producer_epoch=2, commit=commit, coordinator_epoch=4, timestamp=1)
    header = BatchHeader.parse(batch)
    assert (header.is_control, header.is_transactional, header.producer_id, header.producer_epoch) == (True, True, 9, 2)
    assert is_commit(batch) is commit


def test_a_control_batch_with_an_unknown_record_type_is_refused():
    batch = build_batch([Record(offset=0, timestamp=0, key=b"\x00\x00\x00\x05", value=b"")], producer_id=1,
                        producer_epoch=0, transactional=True, control=True)
    with pytest.raises(MarkerError):
        is_commit(batch)


@given(st.lists(st.builds(AbortedTransaction, st.integers(0, 2**63 - 1), st.integers(0, 2**62),
                          st.integers(0, 2**62), st.integers(0, 2**62)), max_size=10))
def test_txnindex_entries_round_trip(entries):
    assert txn_index.decode(txn_index.encode(entries)) == entries


def test_each_segment_holds_the_aborts_whose_markers_it_holds(tmp_path):
    early, late = AbortedTransaction(1, 2, 5, 6), AbortedTransaction(2, 8, 120, 121)
    txn_index.store(tmp_path, [0, 100, 200], [early, late])
    assert txn_index.decode(txn_index.path_of(tmp_path, 0).read_bytes()) == [early]
    assert txn_index.decode(txn_index.path_of(tmp_path, 100).read_bytes()) == [late]
    assert not txn_index.path_of(tmp_path, 200).exists()
    txn_index.store(tmp_path, [0, 100, 200], [late])
    assert not txn_index.path_of(tmp_path, 0).exists()
    assert len(txn_index.path_of(tmp_path, 100).read_bytes()) == txn_index.ENTRY.size == 34
