"""The producer snapshot file format: what is written reads back the same, and no damage goes unnoticed."""

import struct

import crc32c
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.log.producer_snapshot import VERSION, ProducerSnapshot, SnapshotError, decode, encode
from cluster.broker.producer_state import BATCHES_KEPT, BatchRecord, ProducerEntry

int16 = st.integers(-(2**15), 2**15 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
batches = st.builds(BatchRecord, int32, int32, int64, int64, int64)
producers = st.builds(ProducerEntry, int64, int16, int32, st.lists(batches, max_size=BATCHES_KEPT).map(tuple))
snapshots = st.builds(
    ProducerSnapshot, int64, st.lists(producers, max_size=4), st.dictionaries(int64, int64, max_size=3),
    st.lists(st.tuples(int64, int64), max_size=3), st.lists(st.tuples(int64, int64, int64, int64), max_size=3),
)


@given(snapshots)
def test_a_snapshot_reads_back_as_written(snapshot):
    assert decode(encode(snapshot)) == snapshot


@given(snapshots, st.data())
def test_any_changed_byte_is_refused(snapshot, data):
    encoded = bytearray(encode(snapshot))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SnapshotError):
        decode(bytes(encoded))


@given(snapshots, st.data())
def test_a_file_cut_short_or_with_bytes_after_it_is_refused(snapshot, data):
    encoded = encode(snapshot)
    with pytest.raises(SnapshotError):
        decode(encoded[: data.draw(st.integers(0, len(encoded) - 1))])
    with pytest.raises(SnapshotError):
        decode(encoded + data.draw(st.binary(min_size=1, max_size=9)))


def with_crc(body: bytes) -> bytes:
    return struct.pack(">hI", VERSION, crc32c.crc32c(body)) + body


def test_a_body_with_a_right_crc_but_impossible_counts_is_refused():
    """What a writer's bug would leave: the CRC is not all that is checked."""
    six_batches = struct.pack(">qiqhib", 0, 1, 7, 0, -1, BATCHES_KEPT + 1) + bytes(32 * (BATCHES_KEPT + 1))
    with pytest.raises(SnapshotError, match="at most 5"):
        decode(with_crc(six_batches + struct.pack(">iii", 0, 0, 0)))
    with pytest.raises(SnapshotError, match="does not fit"):
        decode(with_crc(struct.pack(">qi", 0, 1_000_000)))
