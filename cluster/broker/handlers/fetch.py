"""Fetch, ListOffsets and OffsetForLeaderEpoch: reading partitions, as their leader.

Consumers (replica_id < 0) read below the high watermark; followers (replica_id >= 0) read
to the log end, and their fetch offset tells the replication core how far they have come.
Record data is never copied: a fetch answers with pinned regions of segment
files, which the server writes with sendfile after the response header.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

from cluster.broker.broker import Broker
from cluster.broker.handlers.client import Client
from cluster.broker.log.errors import OffsetOutOfRangeError, StorageError
from cluster.broker.partition import Partition
from cluster.broker.pinned_region import pin
from cluster.broker.protocol.apis.fetch import (
    AbortedTransaction,
    FetchableTopicResponse,
    FetchResponse,
    PartitionData,
)
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
from cluster.broker.replication import Role

LATEST = -1
EARLIEST = -2
READ_COMMITTED = 1


@dataclass
class _FetchResult:
    response: Any
    bytes_found: int
    failed: bool
    news: bool = False
    """A follower's fetch carries a high watermark it has not been told yet: worth answering at once."""

    def done(self, min_bytes: int) -> bool:
        return self.failed or self.news or self.bytes_found >= min_bytes


def handle_fetch(broker: Broker, request: Request, client: Client) -> Any:
    """Answers at once with data or an error, else long-polls for max_wait_ms.

    A follower that heard of a new leadership before its leader did (both learn it from the
    keeper's watches) is not refused at once: its fetch waits for the leader to catch up, so
    each leader change does not cost the followers replica.fetch.backoff.ms. A follower's fetch
    is also answered when the high watermark moves (as Kafka's fetch sessions do), so followers
    know the HW within a round trip and one that becomes leader starts from it.
    """
    body = request.body
    result = _read(broker, body)
    if result.done(body.min_bytes) or body.max_wait_ms <= 0:
        return result.response
    _release(result.response)
    return _retry_until(broker, lambda: _fetch_attempt(broker, body), body.max_wait_ms, _release)


def _fetch_attempt(broker: Broker, body: Any) -> tuple[Any, bool]:
    result = _read(broker, body)
    return result.response, result.done(body.min_bytes)


async def _retry_until(broker: Broker, attempt: Callable[[], tuple[Any, bool]], wait_ms: int,
                       discard: Callable[[Any], None] = lambda _: None) -> Any:
    """Makes `attempt` again after each append, HW move or state taken up, until it is done or wait_ms passes.

    It attempts once more before its first wait: the task starts after the handler returned,
    and a change in between would otherwise wake nobody, leaving a follower (and with it every
    acks=all write) waiting the whole wait.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_ms / 1000
    while True:
        response, done = attempt()
        remaining = deadline - loop.time()
        if done or remaining <= 0:
            return response
        discard(response)
        await broker.wait_for_data(remaining)


def _read(broker: Broker, body: Any) -> _FetchResult:
    budget = body.max_bytes
    found = 0
    failed = news = False
    topics = []
    for fetch_topic in body.topics:
        partitions = []
        for wanted in fetch_topic.partitions:
            partition = broker.topics.partition(fetch_topic.topic, wanted.partition)
            if partition is None:
                data = _partition_data(wanted.partition, broker.missing_partition_error(fetch_topic.topic, wanted.partition))
            else:
                data = _read_within_budget(broker, partition, wanted, body, budget, first_data=not found)
            failed |= data.error_code != ErrorCode.NONE and not (
                body.replica_id >= 0 and broker.may_soon_lead(fetch_topic.topic, wanted.partition, wanted.current_leader_epoch)
            )
            if partition is not None and body.replica_id >= 0 and data.error_code == ErrorCode.NONE:
                news |= broker.replicas.told_high_watermark(partition, body.replica_id)
            length = sum(region.length for region in data.records)
            found += length
            budget -= length
            partitions.append(data)
        topics.append(FetchableTopicResponse(topic=fetch_topic.topic, partitions=partitions))
    return _FetchResult(FetchResponse(error_code=ErrorCode.NONE, session_id=0, responses=topics), found, failed, news)


def _read_within_budget(broker: Broker, partition: Partition, wanted: Any, body: Any, budget: int,
                        first_data: bool) -> Any:
    """Kafka's KIP-74 rule: the response's max_bytes bounds every partition, and only the first
    partition with data may exceed it, by one whole batch, so a consumer always makes progress."""
    limit = min(wanted.partition_max_bytes, budget)
    if limit <= 0 and not first_data:
        return _empty(partition, wanted)
    data = _read_partition(broker, partition, wanted, body.replica_id, max(limit, 1),
                           read_committed=body.isolation_level == READ_COMMITTED and body.replica_id < 0)
    if not first_data and sum(region.length for region in data.records) > budget:
        _release_regions(data)
        return _empty(partition, wanted)
    return data


def _read_partition(broker: Broker, partition: Partition, wanted: Any, replica_id: int, limit: int,
                    read_committed: bool) -> Any:
    """Read-committed consumers read below the last stable offset, and are told which transactions
    in what they got were aborted (Kafka's aborted-transaction list) so they drop that data."""
    if replica_id >= 0:
        answer = broker.replicas.follower_fetch(partition, replica_id, wanted.fetch_offset, wanted.current_leader_epoch)
    else:
        answer = partition.replica.consumer_fetch(wanted.fetch_offset, wanted.current_leader_epoch)
    if answer.error != ErrorCode.NONE:
        return _partition_data(wanted.partition, answer.error, partition)
    read_to = min(answer.read_to, partition.last_stable_offset) if read_committed else answer.read_to
    try:
        region = partition.read(answer.read_from, limit, read_to)
    except OffsetOutOfRangeError:
        return _partition_data(wanted.partition, ErrorCode.OFFSET_OUT_OF_RANGE, partition)
    except StorageError:
        return _partition_data(wanted.partition, ErrorCode.KAFKA_STORAGE_ERROR, partition)
    data = _partition_data(wanted.partition, ErrorCode.NONE, partition)
    if region.length:
        data.records = [pin(region)]
        if read_committed:
            data.aborted_transactions = [
                AbortedTransaction(producer_id=txn.producer_id, first_offset=txn.first_offset)
                for txn in partition.transactions.aborted_between(wanted.fetch_offset, region.next_offset)
            ]
    return data


def _empty(partition: Partition, wanted: Any) -> Any:
    return _partition_data(wanted.partition, ErrorCode.NONE, partition)


def _partition_data(index: int, error: ErrorCode, partition: Partition | None = None) -> Any:
    high_watermark = partition.high_watermark if partition else -1
    return PartitionData(
        partition_index=index,
        error_code=error,
        high_watermark=high_watermark,
        last_stable_offset=partition.last_stable_offset if partition else -1,
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


def handle_list_offsets(broker: Broker, request: Request, client: Client) -> Any:
    topics = []
    for topic in request.body.topics:
        partitions = [_list_offset(broker, topic.name, wanted, request.body.replica_id,
                                   getattr(request.body, "isolation_level", 0) == READ_COMMITTED)
                      for wanted in topic.partitions]
        topics.append(ListOffsetsTopicResponse(name=topic.name, partitions=partitions))
    return ListOffsetsResponse(topics=topics)


def _list_offset(broker: Broker, topic: str, wanted: Any, replica_id: int, read_committed: bool) -> Any:
    """Latest is the HW for consumers (the LSO for read-committed ones) and the log end for a replica
    (a follower after OFFSET_OUT_OF_RANGE)."""
    partition = broker.topics.partition(topic, wanted.partition_index)
    answer = ListOffsetsPartitionResponse(partition_index=wanted.partition_index, error_code=ErrorCode.NONE)
    if partition is None:
        answer.error_code = broker.missing_partition_error(topic, wanted.partition_index)
        return answer
    answer.error_code = _leader_error(partition, wanted.current_leader_epoch)
    if answer.error_code == ErrorCode.NONE and replica_id < 0 and _high_watermark_unsettled(partition):
        answer.error_code = ErrorCode.OFFSET_NOT_AVAILABLE
    if answer.error_code != ErrorCode.NONE:
        return answer
    answer.leader_epoch = partition.leader_epoch
    if wanted.timestamp == LATEST:
        answer.offset = (partition.log.log_end_offset if replica_id >= 0
                         else partition.last_stable_offset if read_committed else partition.high_watermark)
    elif wanted.timestamp == EARLIEST:
        answer.offset = partition.log.log_start_offset
    else:
        try:
            answer.offset, answer.timestamp, answer.leader_epoch = _first_at_or_after(partition, wanted.timestamp)
        except StorageError:
            answer.error_code = ErrorCode.KAFKA_STORAGE_ERROR
    return answer


def _leader_error(partition: Partition, current_leader_epoch: int) -> ErrorCode:
    """Only the leader answers; a client's epoch (-1: not tracked) older or newer than its own is refused."""
    if partition.replica.role != Role.LEADER:
        return ErrorCode.NOT_LEADER_OR_FOLLOWER
    if 0 <= current_leader_epoch < partition.leader_epoch:
        return ErrorCode.FENCED_LEADER_EPOCH
    if current_leader_epoch > partition.leader_epoch:
        return ErrorCode.UNKNOWN_LEADER_EPOCH
    return ErrorCode.NONE


def _high_watermark_unsettled(partition: Partition) -> bool:
    """A new leader's HW below its epoch's start offset: it has not yet learned what is committed.

    Kafka answers clients OFFSET_NOT_AVAILABLE then (they retry) rather than an HW that went back."""
    start = partition.replica.epoch_start_offset
    return start is not None and partition.high_watermark < start


def _first_at_or_after(partition: Partition, timestamp: int) -> tuple[int, int, int]:
    """(offset, timestamp, its batch's leader epoch) of the first record in offset order stamped at or
    after `timestamp`, else (-1, -1, -1), as Kafka's fetchOffsetByTimestamp: an earlier record with a
    later timestamp is found before a later record with an earlier one. An uncommitted one is not given."""
    offset = partition.log.offset_for_timestamp(timestamp)
    if offset is None or offset >= partition.high_watermark:
        return -1, -1, -1
    for batch, header in partition.batches(offset):
        for record in decode_records(batch):
            if record.offset >= offset:
                return record.offset, record.timestamp, header.partition_leader_epoch
    return -1, -1, -1


def handle_offset_for_leader_epoch(broker: Broker, request: Request, client: Client) -> Any:
    """Where an epoch ends in the leader's log (KIP-101/279): followers truncate there, consumers validate.

    As for fetches, a follower that names an epoch its leader has not taken up yet waits for it
    (up to replica.fetch.wait.max.ms) rather than backing off."""
    response, done = _epoch_ends(broker, request.body)
    if done:
        return response
    return _retry_until(broker, lambda: _epoch_ends(broker, request.body), broker.config.replica_fetch_wait_max_ms)


def _epoch_ends(broker: Broker, body: Any) -> tuple[Any, bool]:
    done = True
    topics = []
    for topic in body.topics:
        results = []
        for wanted in topic.partitions:
            partition = broker.topics.partition(topic.topic, wanted.partition)
            if partition is None:
                result = EpochEndOffset(partition=wanted.partition, leader_epoch=-1, end_offset=-1,
                                        error_code=broker.missing_partition_error(topic.topic, wanted.partition))
            else:
                answer = broker.replicas.epoch_end_offset(partition, body.replica_id, wanted.leader_epoch,
                                                          wanted.current_leader_epoch)
                result = EpochEndOffset(partition=wanted.partition, error_code=answer.error,
                                        leader_epoch=answer.leader_epoch, end_offset=answer.end_offset)
            done &= result.error_code == ErrorCode.NONE or not (
                body.replica_id >= 0 and broker.may_soon_lead(topic.topic, wanted.partition, wanted.current_leader_epoch)
            )
            results.append(result)
        topics.append(OffsetForLeaderTopicResult(topic=topic.topic, partitions=results))
    return OffsetForLeaderEpochResponse(topics=topics), done
