"""Committed offsets and their records in the internal topic __consumer_offsets.

Commits must survive a broker restart, so each one is written as a record to
__consumer_offsets and the in-memory store is rebuilt by replaying that topic.
Keys and values use Kafka's own layouts (offset commit key v1, value v3), so
`logquake log dump` and Kafka tooling read the same thing, and a group's
partition is chosen with Kafka's hash of the group id.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from cluster.broker.internal_records import InternalRecordError as OffsetRecordError
from cluster.broker.internal_records import RecordReader, encode_string

OFFSETS_TOPIC = "__consumer_offsets"

_KEY_VERSION = 1
_VALUE_VERSION = 3
_INT16 = struct.Struct(">h")
_PARTITION = struct.Struct(">i")
_OFFSET_AND_EPOCH = struct.Struct(">qi")
_TIMESTAMP = struct.Struct(">q")
_NO_EPOCH = -1


@dataclass(frozen=True)
class CommittedOffset:
    offset: int
    leader_epoch: int = _NO_EPOCH
    metadata: str | None = ""
    commit_timestamp_ms: int = -1


TopicPartition = tuple[str, int]


def partition_for_group(group_id: str, num_partitions: int) -> int:
    """Kafka's choice: Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions."""
    code = 0
    for unit in _utf16_units(group_id):
        code = (31 * code + unit) & 0xFFFFFFFF
    signed = code - (1 << 32) if code & 0x80000000 else code
    magnitude = 0 if signed == -(1 << 31) else abs(signed)
    return magnitude % num_partitions


def _utf16_units(text: str) -> list[int]:
    encoded = text.encode("utf-16-be")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]


def encode_key(group_id: str, topic: str, partition: int) -> bytes:
    return _INT16.pack(_KEY_VERSION) + encode_string(group_id) + encode_string(topic) + _PARTITION.pack(partition)


def encode_value(committed: CommittedOffset) -> bytes:
    return (
        _INT16.pack(_VALUE_VERSION)
        + _OFFSET_AND_EPOCH.pack(committed.offset, committed.leader_epoch)
        + encode_string(committed.metadata)
        + _TIMESTAMP.pack(committed.commit_timestamp_ms)
    )


def decode_key(key: bytes) -> tuple[str, str, int] | None:
    """(group, topic, partition) of an offset-commit key; None for other kinds (group metadata)."""
    reader = RecordReader(key)
    version = reader.int16()
    if version not in (0, 1):
        return None
    return reader.string_required(), reader.string_required(), reader.int32()


def decode_value(value: bytes) -> CommittedOffset:
    reader = RecordReader(value)
    version = reader.int16()
    if version not in (1, 3):
        raise OffsetRecordError(f"unsupported offset commit value version {version}")
    offset = reader.int64()
    epoch = reader.int32() if version == 3 else _NO_EPOCH
    metadata = reader.string()
    timestamp = reader.int64()
    return CommittedOffset(offset, epoch, metadata, timestamp)


class OffsetStore:
    """The latest committed offset per (group, topic, partition).

    A transactional producer's commits are staged under its producer id until its
    transaction's marker says whether they count."""

    def __init__(self) -> None:
        self._committed: dict[str, dict[TopicPartition, CommittedOffset]] = {}
        self._staged: dict[int, dict[str, dict[TopicPartition, CommittedOffset]]] = {}

    def stage(self, producer_id: int, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        self._staged.setdefault(producer_id, {}).setdefault(group_id, {}).update(offsets)

    def end_transaction(self, producer_id: int, commit: bool) -> None:
        for group_id, offsets in self._staged.pop(producer_id, {}).items():
            if commit:
                self.commit(group_id, offsets)

    def commit(self, group_id: str, offsets: dict[TopicPartition, CommittedOffset]) -> None:
        self._committed.setdefault(group_id, {}).update(offsets)

    def fetch(self, group_id: str, partitions: list[TopicPartition] | None = None) -> dict[TopicPartition, CommittedOffset]:
        """Committed offsets of the group; None asks for every partition it has committed."""
        committed = self._committed.get(group_id, {})
        if partitions is None:
            return dict(committed)
        return {tp: committed[tp] for tp in partitions if tp in committed}

    def has_group(self, group_id: str) -> bool:
        return bool(self._committed.get(group_id))

    def group_ids(self) -> list[str]:
        return [group_id for group_id, committed in self._committed.items() if committed]

    def unload(self, owned: Callable[[str], bool]) -> None:
        """Forgets the groups `owned` says belong to an offsets partition this broker no longer leads,
        staged transactional commits included (replaying the partition stages them again)."""
        for group_id in [group_id for group_id in self._committed if owned(group_id)]:
            del self._committed[group_id]
        for staged in self._staged.values():
            for group_id in [group_id for group_id in staged if owned(group_id)]:
                del staged[group_id]

    def delete_topic(self, topic: str) -> None:
        for committed in self._committed.values():
            for tp in [tp for tp in committed if tp[0] == topic]:
                del committed[tp]

    def replay(self, key: bytes | None, value: bytes | None, producer_id: int | None = None) -> None:
        """Applies one record of __consumer_offsets; a null value (tombstone) forgets the offset.
        A transactional producer's record (`producer_id`) is staged until its transaction ends."""
        if key is None:
            raise OffsetRecordError("record without a key")
        decoded = decode_key(key)
        if decoded is None:
            return
        group_id, topic, partition = decoded
        if value is None:
            self._committed.get(group_id, {}).pop((topic, partition), None)
            return
        if producer_id is None:
            self.commit(group_id, {(topic, partition): decode_value(value)})
        else:
            self.stage(producer_id, group_id, {(topic, partition): decode_value(value)})
