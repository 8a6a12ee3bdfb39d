"""Produce and InitProducerId: appending batches as partition leader, through the replication core."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NamedTuple

from cluster.broker.broker import Broker
from cluster.broker.handlers import transactions
from cluster.broker.handlers.client import Client
from cluster.broker.handlers.outcomes import CLOSE_CONNECTION, NO_RESPONSE
from cluster.broker.log.errors import BatchTooLargeError, InvalidBatchError, LogDirFullError, StorageError
from cluster.broker.protocol.messages import Request
from cluster.broker.partition import SingleBatchRequired
from cluster.broker.producer_state import SequenceError
from cluster.broker.protocol.apis.init_producer_id import InitProducerIdResponse
from cluster.broker.protocol.apis.produce import PartitionProduceResponse, ProduceResponse, TopicProduceResponse
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.record_batch import HEADER_SIZE, BatchHeader, CorruptBatchError
from cluster.broker.replication import CompleteProduce

_log = logging.getLogger(__name__)
_VALID_ACKS = (-1, 0, 1)
_FIRST_RECORD_BATCH_VERSION = 3


def handle_produce(broker: Broker, request: Request, client: Client) -> Any:
    """Appends each partition's batch as its leader; answers when every partition has its answer.

    acks=0 and 1 are answered at once; acks=all waits until the high watermark passes the batch
    (or NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER say why not).
    log_append_time_ms is the time a LogAppendTime topic's leader stamped the batch with, -1 for CreateTime.
    A log that cannot store the batch (a full disk: nothing was written) answers
    KAFKA_STORAGE_ERROR, which producers retry, with the reason in error_message (v8+).
    """
    body = request.body
    refusal = _refusal(request.version, body.acks)
    outcomes: list[tuple[str, int, Outcome]] = []
    for topic_data in body.topic_data:
        for data in topic_data.partition_data:
            outcome = Refused(refusal) if refusal is not None else _append(
                broker, topic_data.name, data.index, data.records, body.acks, body.timeout_ms)
            outcomes.append((topic_data.name, data.index, outcome))
    if any(not isinstance(outcome, Refused) for _, _, outcome in outcomes):
        broker.data_appended()
    if body.acks == 0:
        failed = any(_answer(outcome)[0] != ErrorCode.NONE for _, _, outcome in outcomes if _settled(outcome))
        return CLOSE_CONNECTION if failed else NO_RESPONSE
    if all(_settled(outcome) for _, _, outcome in outcomes):
        return _response(broker, outcomes)
    return _respond_when_committed(broker, outcomes)


class Refused(NamedTuple):
    """A partition's answer when nothing was appended."""

    error: ErrorCode
    message: str | None = None


Outcome = Refused | asyncio.Future[CompleteProduce]
"""A refusal before anything was appended, or the append's answer (done at once unless acks=all)."""


def _settled(outcome: Outcome) -> bool:
    return isinstance(outcome, Refused) or outcome.done()


def _answer(outcome: Outcome) -> tuple[ErrorCode, int, int, str | None]:
    """(error, base offset, log append time, message): -1 for the offset and time when there is an error."""
    if isinstance(outcome, Refused):
        return outcome.error, -1, -1, outcome.message
    completion = outcome.result()
    if completion.error != ErrorCode.NONE:
        return completion.error, -1, -1, None
    return completion.error, completion.base_offset, completion.log_append_time, None


async def _respond_when_committed(broker: Broker, outcomes: list[tuple[str, int, Outcome]]) -> Any:
    await asyncio.gather(*(outcome for _, _, outcome in outcomes if not isinstance(outcome, Refused)))
    return _response(broker, outcomes)


def _response(broker: Broker, outcomes: list[tuple[str, int, Outcome]]) -> Any:
    topics: dict[str, list[Any]] = {}
    for topic, index, outcome in outcomes:
        error, base_offset, log_append_time, message = _answer(outcome)
        partition = broker.topics.partition(topic, index)
        topics.setdefault(topic, []).append(PartitionProduceResponse(
            index=index, error_code=error, base_offset=base_offset, log_append_time_ms=log_append_time,
            log_start_offset=partition.log.log_start_offset if partition else -1, error_message=message,
        ))
    return ProduceResponse(responses=[
        TopicProduceResponse(name=name, partition_responses=partitions) for name, partitions in topics.items()
    ])


def _refusal(version: int, acks: int) -> ErrorCode | None:
    if version < _FIRST_RECORD_BATCH_VERSION:
        return ErrorCode.UNSUPPORTED_VERSION
    if acks not in _VALID_ACKS:
        return ErrorCode.INVALID_REQUIRED_ACKS
    return None


def _append(broker: Broker, topic: str, index: int, records: Any, acks: int, timeout_ms: int) -> Outcome:
    partition = broker.topics.partition(topic, index)
    if partition is None:
        return Refused(broker.missing_partition_error(topic, index))
    if records is None:
        return Refused(ErrorCode.CORRUPT_MESSAGE)
    if _is_control(records):
        return Refused(ErrorCode.INVALID_RECORD, "clients may not write control batches")
    try:
        return broker.replicas.produce(partition, records, acks, timeout_ms)
    except (CorruptBatchError, InvalidBatchError) as error:
        _log.info("%s: refused a corrupt batch: %s", partition.name, error)
        return Refused(ErrorCode.CORRUPT_MESSAGE, str(error))
    except BatchTooLargeError as error:
        return Refused(ErrorCode.MESSAGE_TOO_LARGE, str(error))
    except SingleBatchRequired as error:
        return Refused(ErrorCode.INVALID_RECORD, str(error))
    except SequenceError as error:
        _log.info("%s: %s", partition.name, error)
        return Refused(error.code, str(error))
    except StorageError as error:
        (_log.warning if isinstance(error, LogDirFullError) else _log.error)("%s: %s", partition.name, error)
        return Refused(ErrorCode.KAFKA_STORAGE_ERROR, str(error))


def _is_control(records: Any) -> bool:
    """Only a transaction coordinator writes markers (Kafka refuses them in Produce)."""
    return len(records) >= HEADER_SIZE and BatchHeader.parse(records).is_control


def handle_init_producer_id(broker: Broker, request: Request, client: Client) -> Any:
    if request.body.transactional_id is not None:
        return transactions.init_transactional_producer(broker, request.body.transactional_id,
                                                        request.body.transaction_timeout_ms)
    try:
        producer_id = broker.allocate_producer_id()
    except LogDirFullError as error:
        _log.warning("no producer id handed out: %s", error)  # clients retry this code
        return InitProducerIdResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE, producer_id=-1, producer_epoch=-1)
    return InitProducerIdResponse(error_code=ErrorCode.NONE, producer_id=producer_id, producer_epoch=0)
