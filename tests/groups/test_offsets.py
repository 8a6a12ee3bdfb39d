import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.groups.offsets import (
    CommittedOffset,
    OffsetRecordError,
    OffsetStore,
    decode_key,
    decode_value,
    encode_key,
    encode_value,
    partition_for_group,
)


@pytest.mark.parametrize(
    "group_id, partition",
    # Expected values computed by Java: Utils.abs(groupId.hashCode()) % 50.
    [("", 0), ("hello", 22), ("polygenelubricants", 0), ("my-group", 12), ("gr\u00fcppe-\U0001F600", 14),
     ("console-consumer-12345", 6)],
)
def test_group_partition_matches_kafka(group_id, partition):
    assert partition_for_group(group_id, 50) == partition


names = st.text(max_size=30)
committed_offsets = st.builds(
    CommittedOffset,
    offset=st.integers(-1, 2**63 - 1),
    leader_epoch=st.integers(-1, 2**31 - 1),
    metadata=st.none() | st.text(max_size=50),
    commit_timestamp_ms=st.integers(-1, 2**62),
)


@given(group=names, topic=names, partition=st.integers(0, 2**31 - 1), committed=committed_offsets)
def test_records_round_trip(group, topic, partition, committed):
    assert decode_key(encode_key(group, topic, partition)) == (group, topic, partition)
    assert decode_value(encode_value(committed)) == committed


def test_key_layout_is_kafkas_offset_commit_key_v1():
    assert encode_key("g", "t", 3) == b"\x00\x01" + b"\x00\x01g" + b"\x00\x01t" + b"\x00\x00\x00\x03"


def test_group_metadata_keys_are_not_offsets():
    group_metadata_key = b"\x00\x02\x00\x01g"
    assert decode_key(group_metadata_key) is None
    store = OffsetStore()
    store.replay(group_metadata_key, b"anything")
    assert store.group_ids() == []


def test_replay_rebuilds_the_latest_commit_and_honours_tombstones():
    store = OffsetStore()
    store.replay(encode_key("g", "t", 0), encode_value(CommittedOffset(5)))
    store.replay(encode_key("g", "t", 0), encode_value(CommittedOffset(9, 2, "meta", 100)))
    store.replay(encode_key("g", "t", 1), encode_value(CommittedOffset(1)))
    store.replay(encode_key("g", "t", 1), None)
    assert store.fetch("g") == {("t", 0): CommittedOffset(9, 2, "meta", 100)}
    assert store.fetch("g", [("t", 0), ("t", 7)]) == {("t", 0): CommittedOffset(9, 2, "meta", 100)}


def test_deleting_a_topic_forgets_its_offsets():
    store = OffsetStore()
    store.commit("g", {("a", 0): CommittedOffset(1), ("b", 0): CommittedOffset(2)})
    store.delete_topic("a")
    assert store.fetch("g") == {("b", 0): CommittedOffset(2)}


@given(data=st.binary(max_size=40))
def test_malformed_records_raise_only_the_record_error(data):
    for decode in (decode_key, decode_value):
        try:
            decode(data)
        except OffsetRecordError:
            pass


def test_truncated_and_keyless_records_are_reported():
    value = encode_value(CommittedOffset(7, metadata="abc"))
    with pytest.raises(OffsetRecordError, match="record ends"):
        decode_value(value[:-3])
    with pytest.raises(OffsetRecordError, match="without a key"):
        OffsetStore().replay(None, value)
    with pytest.raises(OffsetRecordError, match="version 9"):
        decode_value(b"\x00\x09" + value[2:])


def test_transactional_commits_count_only_once_their_transaction_commits():
    store = OffsetStore()
    store.replay(encode_key("g", "t", 0), encode_value(CommittedOffset(5)), producer_id=7)
    store.stage(8, "g", {("t", 1): CommittedOffset(9)})
    store.stage(8, "other", {("t", 1): CommittedOffset(3)})
    assert store.fetch("g") == {}, "staged, not visible"
    store.end_transaction(7, commit=True)
    store.end_transaction(8, commit=False)
    assert store.fetch("g") == {("t", 0): CommittedOffset(5)}
    store.stage(9, "g", {("t", 2): CommittedOffset(1)})
    store.unload(lambda group_id: group_id == "g")
    store.end_transaction(9, commit=True)
    assert store.fetch("g") == {}, "an unloaded group's staged commits went with it"
