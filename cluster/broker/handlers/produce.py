"""Produce and InitProducerId: appending batches as partition leader."""

from __future__ import annotations

import logging
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.handlers.outcomes import CLOSE_CONNECTION, NO_RESPONSE
from cluster.broker.log.errors import BatchTooLargeError, CorruptLogError, InvalidBatchError
from cluster.broker.protocol.messages import Request
from cluster.broker.partition import SingleBatchRequired
from cluster.broker.producer_state import SequenceError
from cluster.broker.protocol.apis.init_producer_id import InitProducerIdResponse
from cluster.broker.protocol.apis.produce import PartitionProduceResponse, ProduceResponse, TopicProduceResponse
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.record_batch import CorruptBatchError

_log = logging.getLogger(__name__)
_VALID_ACKS = (-1, 0, 1)
_FIRST_RECORD_BATCH_VERSION = 3


def handle_produce(broker: Broker, request: Request, client_host: str) -> Any:
    body = request.body
    refusal = _refusal(request.version, body.acks)
    results: list[Any] = []
    appended = False
    for topic_data in body.topic_data:
        partitions = []
        for data in topic_data.partition_data:
            if refusal is not None:
                error, base_offset = refusal, -1
            else:
                error, base_offset = _append(broker, topic_data.name, data.index, data.records, body.acks)
            appended |= error is ErrorCode.NONE
            partitions.append(_partition_response(broker, topic_data.name, data.index, error, base_offset))
        results.append(TopicProduceResponse(name=topic_data.name, partition_responses=partitions))
    if appended:
        broker.data_appended()
    if body.acks == 0:
        failed = any(p.error_code != ErrorCode.NONE for t in results for p in t.partition_responses)
        return CLOSE_CONNECTION if failed else NO_RESPONSE
    return ProduceResponse(responses=results)


def _refusal(version: int, acks: int) -> ErrorCode | None:
    if version < _FIRST_RECORD_BATCH_VERSION:
        return ErrorCode.UNSUPPORTED_VERSION
    if acks not in _VALID_ACKS:
        return ErrorCode.INVALID_REQUIRED_ACKS
    return None


def _append(broker: Broker, topic: str, index: int, records: Any, acks: int) -> tuple[ErrorCode, int]:
    partition = broker.topics.partition(topic, index)
    if partition is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1
    if records is None:
        return ErrorCode.CORRUPT_MESSAGE, -1
    found = broker.topics.get(topic)
    assert found is not None
    if acks == -1 and len(partition.isr) < broker.topics.min_insync_replicas(found):
        return ErrorCode.NOT_ENOUGH_REPLICAS, -1
    try:
        return ErrorCode.NONE, partition.append(records).base_offset
    except (CorruptBatchError, InvalidBatchError) as error:
        _log.info("%s: refused a corrupt batch: %s", partition.name, error)
        return ErrorCode.CORRUPT_MESSAGE, -1
    except BatchTooLargeError:
        return ErrorCode.MESSAGE_TOO_LARGE, -1
    except SingleBatchRequired:
        return ErrorCode.INVALID_RECORD, -1
    except SequenceError as error:
        _log.info("%s: %s", partition.name, error)
        return error.code, -1
    except CorruptLogError as error:
        _log.error("%s: %s", partition.name, error)
        return ErrorCode.KAFKA_STORAGE_ERROR, -1


def _partition_response(broker: Broker, topic: str, index: int, error: ErrorCode, base_offset: int) -> Any:
    partition = broker.topics.partition(topic, index)
    return PartitionProduceResponse(
        index=index,
        error_code=error,
        base_offset=base_offset,
        log_start_offset=partition.log.log_start_offset if partition else -1,
    )


def handle_init_producer_id(broker: Broker, request: Request, client_host: str) -> Any:
    if request.body.transactional_id is not None:
        return InitProducerIdResponse(
            error_code=ErrorCode.INVALID_REQUEST, producer_id=-1, producer_epoch=-1,
        )
    return InitProducerIdResponse(error_code=ErrorCode.NONE, producer_id=broker.allocate_producer_id(), producer_epoch=0)
