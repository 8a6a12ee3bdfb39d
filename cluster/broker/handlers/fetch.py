"""Fetch, ListOffsets and OffsetForLeaderEpoch: reading partitions.

Record data is never copied: a fetch answers with pinned regions of segment
files, which the server writes with sendfile after the response header.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.log.errors import CorruptLogError, OffsetOutOfRangeError
from cluster.broker.partition import Partition
from cluster.broker.pinned_region import pin
from cluster.broker.protocol.apis.fetch import FetchableTopicResponse, FetchResponse, PartitionData
from cluster.broker.protocol.apis.list_offsets import (
    ListOffsetsPartitionResponse,
    ListOffsetsResponse,
    ListOffsetsTopicResponse,
)
from cluster.broker.protocol.apis.offset_for_leader_epoch import (
    EpochEndOffset,
    OffsetForLeaderEpochResponse,
    OffsetForLeaderTopicResult,
)
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import Request
from cluster.broker.protocol.records import decode_records

LATEST = -1
EARLIEST = -2


@dataclass
class _FetchResult:
    response: Any
    bytes_found: int
    failed: bool


def handle_fetch(broker: Broker, request: Request, client_host: str) -> Any:
    body = request.body
    result = _read(broker, body)
    if result.failed or result.bytes_found >= body.min_bytes or body.max_wait_ms <= 0:
        return result.response
    _release(result.response)
    return _long_poll(broker, body)


async def _long_poll(broker: Broker, body: Any) -> Any:
    """Waits until min_bytes are available or max_wait_ms passes, re-reading after each append."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + body.max_wait_ms / 1000
    while (remaining := deadline - loop.time()) > 0:
        await broker.wait_for_data(remaining)
        result = _read(broker, body)
        if result.failed or result.bytes_found >= body.min_bytes:
            return result.response
        _release(result.response)
    return _read(broker, body).response


def _read(broker: Broker, body: Any) -> _FetchResult:
    committed_only = body.replica_id < 0
    budget = body.max_bytes
    found = 0
    failed = False
    topics = []
    for fetch_topic in body.topics:
        partitions = []
        for wanted in fetch_topic.partitions:
            partition = broker.topics.partition(fetch_topic.topic, wanted.partition)
            if partition is None:
                partitions.append(_partition_data(wanted.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
                failed = True
                continue
            data = _read_within_budget(partition, wanted, budget, committed_only, first_data=not found)
            failed |= data.error_code != ErrorCode.NONE
            length = sum(region.length for region in data.records)
            found += length
            budget -= length
            partitions.append(data)
        topics.append(FetchableTopicResponse(topic=fetch_topic.topic, partitions=partitions))
    return _FetchResult(FetchResponse(error_code=ErrorCode.NONE, session_id=0, responses=topics), found, failed)


def _read_within_budget(partition: Partition, wanted: Any, budget: int, committed_only: bool, first_data: bool) -> Any:
    """Kafka's KIP-74 rule: the response's max_bytes bounds every partition, and only the first
    partition with data may exceed it, by one whole batch, so a consumer always makes progress."""
    limit = min(wanted.partition_max_bytes, budget)
    if limit <= 0 and not first_data:
        return _empty(partition, wanted)
    data = _read_partition(partition, wanted, max(limit, 1), committed_only)
    if not first_data and sum(region.length for region in data.records) > budget:
        _release_regions(data)
        return _empty(partition, wanted)
    return data


def _read_partition(partition: Partition, wanted: Any, limit: int, committed_only: bool) -> Any:
    try:
        region = partition.read(wanted.fetch_offset, limit, committed_only)
    except OffsetOutOfRangeError:
        return _partition_data(wanted.partition, ErrorCode.OFFSET_OUT_OF_RANGE, partition)
    except CorruptLogError:
        return _partition_data(wanted.partition, ErrorCode.KAFKA_STORAGE_ERROR, partition)
    data = _partition_data(wanted.partition, ErrorCode.NONE, partition)
    if region.length:
        data.records = [pin(region)]
    return data


def _empty(partition: Partition, wanted: Any) -> Any:
    return _partition_data(wanted.partition, ErrorCode.NONE, partition)


def _partition_data(index: int, error: ErrorCode, partition: Partition | None = None) -> Any:
    high_watermark = partition.high_watermark if partition else -1
    return PartitionData(
        partition_index=index,
        error_code=error,
        high_watermark=high_watermark,
        last_stable_offset=high_watermark,
        log_start_offset=partition.log.log_start_offset if partition else -1,
        aborted_transactions=[],
        records=[],
    )


def _release(response: Any) -> None:
    """Closes the pinned regions of a response that will not be sent."""
    for topic in response.responses:
        for data in topic.partitions:
            _release_regions(data)


def _release_regions(data: Any) -> None:
    for region in data.records:
        region.close()


def handle_list_offsets(broker: Broker, request: Request, client_host: str) -> Any:
    topics = []
    for topic in request.body.topics:
        partitions = [_list_offset(broker, topic.name, wanted) for wanted in topic.partitions]
        topics.append(ListOffsetsTopicResponse(name=topic.name, partitions=partitions))
    return ListOffsetsResponse(topics=topics)


def _list_offset(broker: Broker, topic: str, wanted: Any) -> Any:
    partition = broker.topics.partition(topic, wanted.partition_index)
    answer = ListOffsetsPartitionResponse(partition_index=wanted.partition_index, error_code=ErrorCode.NONE)
    if partition is None:
        answer.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        return answer
    answer.leader_epoch = partition.leader_epoch
    if wanted.timestamp == LATEST:
        answer.offset = partition.high_watermark
    elif wanted.timestamp == EARLIEST:
        answer.offset = partition.log.log_start_offset
    else:
        try:
            answer.offset, answer.timestamp = _first_at_or_after(partition, wanted.timestamp)
        except CorruptLogError:
            answer.error_code = ErrorCode.KAFKA_STORAGE_ERROR
    return answer


def _first_at_or_after(partition: Partition, timestamp: int) -> tuple[int, int]:
    """(offset, timestamp) of the first committed record stamped at or after `timestamp`, else (-1, -1)."""
    offset = partition.log.offset_for_timestamp(timestamp)
    if offset is None or offset >= partition.high_watermark:
        return -1, -1
    for batch, header in partition.batches(offset):
        for record in decode_records(batch):
            if record.offset >= offset:
                return record.offset, record.timestamp
    return -1, -1


def handle_offset_for_leader_epoch(broker: Broker, request: Request, client_host: str) -> Any:
    topics = []
    for topic in request.body.topics:
        results = []
        for wanted in topic.partitions:
            partition = broker.topics.partition(topic.topic, wanted.partition)
            if partition is None:
                results.append(EpochEndOffset(partition=wanted.partition, error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                              leader_epoch=-1, end_offset=-1))
                continue
            epoch, end_offset = partition.log.end_offset_for_epoch(wanted.leader_epoch)
            results.append(EpochEndOffset(partition=wanted.partition, error_code=ErrorCode.NONE,
                                          leader_epoch=epoch, end_offset=end_offset))
        topics.append(OffsetForLeaderTopicResult(topic=topic.topic, partitions=results))
    return OffsetForLeaderEpochResponse(topics=topics)
