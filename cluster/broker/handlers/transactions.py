"""The transactional APIs: InitProducerId with a transactional id, AddPartitionsToTxn, AddOffsetsToTxn,
EndTxn and TxnOffsetCommit from producers, WriteTxnMarkers from other brokers' coordinators.

Requests for an id this broker does not coordinate are answered NOT_COORDINATOR (clients look
the coordinator up again); decisions are written to __transaction_state before the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.groups.offsets import CommittedOffset, partition_for_group
from cluster.broker.handlers.client import Client
from cluster.broker.log.errors import LogDirFullError
from cluster.broker.protocol.apis.add_offsets_to_txn import AddOffsetsToTxnResponse
from cluster.broker.protocol.apis.add_partitions_to_txn import (
    AddPartitionsToTxnPartitionResult,
    AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopicResult,
)
from cluster.broker.protocol.apis.end_txn import EndTxnResponse
from cluster.broker.protocol.apis.init_producer_id import InitProducerIdResponse
from cluster.broker.protocol.apis.txn_offset_commit import (
    TxnOffsetCommitResponse,
    TxnOffsetCommitResponsePartition,
    TxnOffsetCommitResponseTopic,
)
from cluster.broker.protocol.apis.write_txn_markers import (
    WritableTxnMarkerPartitionResult,
    WritableTxnMarkerResult,
    WritableTxnMarkerTopicResult,
    WriteTxnMarkersResponse,
)
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import Request
from cluster.broker.groups.offsets import OFFSETS_TOPIC
from cluster.broker.transactions.coordinator import Decision


async def init_transactional_producer(broker: Broker, transactional_id: str, timeout_ms: int) -> Any:
    """The producer id and (bumped) epoch of a transactional id: earlier producers of it are fenced."""
    def refused(error: ErrorCode) -> Any:
        return InitProducerIdResponse(error_code=error, producer_id=-1, producer_epoch=-1)

    if not broker.transactions.coordinates(transactional_id):
        return refused(ErrorCode.NOT_COORDINATOR)
    try:
        decision = broker.transactions.coordinator.init_producer_id(
            transactional_id, timeout_ms, broker.clock(), broker.allocate_producer_id)
    except LogDirFullError:
        return refused(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    error = await broker.transactions.carry_out(decision)
    if error is not ErrorCode.NONE:
        return refused(error)
    assert decision.write is not None
    return InitProducerIdResponse(error_code=ErrorCode.NONE, producer_id=decision.write.producer_id,
                                  producer_epoch=decision.write.producer_epoch)


def handle_add_partitions_to_txn(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    transactional_id = body.v3_and_below_transactional_id
    wanted = [(topic.name, index) for topic in body.v3_and_below_topics for index in topic.partitions]
    unknown = {key for key in wanted if not broker.view().replicas(*key)}
    if not broker.transactions.coordinates(transactional_id):
        return _add_partitions_response(wanted, dict.fromkeys(wanted, ErrorCode.NOT_COORDINATOR))
    if unknown:  # Kafka adds none then, and says which were fine
        return _add_partitions_response(wanted, {key: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if key in unknown
                                                 else ErrorCode.OPERATION_NOT_ATTEMPTED for key in wanted})
    decision = broker.transactions.coordinator.add_partitions(
        transactional_id, body.v3_and_below_producer_id, body.v3_and_below_producer_epoch, wanted, broker.clock())
    return _added_partitions(broker, wanted, decision)


async def _added_partitions(broker: Broker, wanted: list[tuple[str, int]], decision: Decision) -> Any:
    error = await broker.transactions.carry_out(decision)
    return _add_partitions_response(wanted, dict.fromkeys(wanted, error))


def _add_partitions_response(wanted: list[tuple[str, int]], errors: dict[tuple[str, int], ErrorCode]) -> Any:
    by_topic: dict[str, list[Any]] = {}
    for topic, index in wanted:
        by_topic.setdefault(topic, []).append(
            AddPartitionsToTxnPartitionResult(partition_index=index, partition_error_code=errors[(topic, index)]))
    return AddPartitionsToTxnResponse(results_by_topic_v3_and_below=[
        AddPartitionsToTxnTopicResult(name=topic, results_by_partition=results) for topic, results in by_topic.items()])


def handle_add_offsets_to_txn(broker: Broker, request: Request, client: Client) -> Any:
    """The group's __consumer_offsets partition joins the transaction, so its marker reaches the commits."""
    body = request.body
    return _added_offsets(broker, body)


async def _added_offsets(broker: Broker, body: Any) -> Any:
    await broker.find_coordinator(body.group_id)  # creates __consumer_offsets on first use
    info = broker.view().topics.get(OFFSETS_TOPIC)
    if not broker.transactions.coordinates(body.transactional_id):
        return AddOffsetsToTxnResponse(error_code=ErrorCode.NOT_COORDINATOR)
    if info is None or not info.assignment:
        return AddOffsetsToTxnResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE)
    key = (OFFSETS_TOPIC, partition_for_group(body.group_id, len(info.assignment)))
    decision = broker.transactions.coordinator.add_partitions(
        body.transactional_id, body.producer_id, body.producer_epoch, [key], broker.clock())
    return AddOffsetsToTxnResponse(error_code=await broker.transactions.carry_out(decision))


def handle_end_txn(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    if not broker.transactions.coordinates(body.transactional_id):
        return EndTxnResponse(error_code=ErrorCode.NOT_COORDINATOR)
    decision = broker.transactions.coordinator.end(body.transactional_id, body.producer_id, body.producer_epoch,
                                                   body.committed, broker.clock())
    return _ended(broker, decision)


async def _ended(broker: Broker, decision: Decision) -> Any:
    return EndTxnResponse(error_code=await broker.transactions.carry_out(decision))


def handle_txn_offset_commit(broker: Broker, request: Request, client: Client) -> Any:
    """Offsets staged in the group's offsets partition under the producer id, visible at its commit marker.

    Answered by the group's coordinator; the producer's epoch is checked there by the partition's
    producer state (a fenced producer's batch is refused with INVALID_PRODUCER_EPOCH)."""
    body = request.body
    keys = [(topic.name, p.partition_index) for topic in body.topics for p in topic.partitions]
    if not broker.coordinates(body.group_id):
        return _txn_offset_commit_response(keys, ErrorCode.NOT_COORDINATOR)
    committed_at = broker.clock()
    offsets = {(topic.name, p.partition_index): CommittedOffset(p.committed_offset, p.committed_leader_epoch,
                                                               p.committed_metadata, committed_at)
               for topic in body.topics for p in topic.partitions}
    if not offsets:
        return _txn_offset_commit_response(keys, ErrorCode.NONE)
    written = broker.commit_offsets(body.group_id, offsets, producer=(body.producer_id, body.producer_epoch))
    if isinstance(written, ErrorCode):
        return _txn_offset_commit_response(keys, written)
    return _answer_txn_offset_commit(broker, keys, written)


async def _answer_txn_offset_commit(broker: Broker, keys: list[tuple[str, int]], written: Any) -> Any:
    return _txn_offset_commit_response(keys, broker.commit_error((await written).error))


def _txn_offset_commit_response(keys: list[tuple[str, int]], error: ErrorCode) -> Any:
    by_topic: dict[str, list[Any]] = {}
    for topic, index in keys:
        by_topic.setdefault(topic, []).append(TxnOffsetCommitResponsePartition(partition_index=index, error_code=error))
    return TxnOffsetCommitResponse(topics=[TxnOffsetCommitResponseTopic(name=topic, partitions=partitions)
                                           for topic, partitions in by_topic.items()])


async def handle_write_txn_markers(broker: Broker, request: Request, client: Client) -> Any:
    """Another broker's coordinator has this broker, as the partitions' leader, write their markers
    (all at once: each waits for its acks=all)."""
    wanted = [(marker, topic.name, index) for marker in request.body.markers for topic in marker.topics
              for index in topic.partition_indexes]
    errors = await asyncio.gather(*(
        broker.transactions.write_marker((topic, index), marker.producer_id, marker.producer_epoch,
                                         marker.transaction_result, marker.coordinator_epoch)
        for marker, topic, index in wanted))
    results = []
    for marker in request.body.markers:
        topics = [WritableTxnMarkerTopicResult(name=topic.name, partitions=[
            WritableTxnMarkerPartitionResult(partition_index=index, error_code=error)
            for (m, name, index), error in zip(wanted, errors) if m is marker and name == topic.name
        ]) for topic in marker.topics]
        results.append(WritableTxnMarkerResult(producer_id=marker.producer_id, topics=topics))
    return WriteTxnMarkersResponse(markers=results)
