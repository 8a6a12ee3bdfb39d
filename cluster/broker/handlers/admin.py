"""ApiVersions, Metadata, CreateTopics and DeleteTopics: what clients learn and change about topics."""

from __future__ import annotations

import logging
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.protocol.apis.create_topics import CreatableTopicResult, CreateTopicsResponse
from cluster.broker.protocol.apis.delete_topics import DeletableTopicResult, DeleteTopicsResponse
from cluster.broker.protocol.apis.metadata import (
    MetadataResponse,
    MetadataResponseBroker,
    MetadataResponsePartition,
    MetadataResponseTopic,
)
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import Request
from cluster.broker.protocol.negotiation import api_versions_response
from cluster.broker.topics import Topic, TopicError, validate_name

_log = logging.getLogger(__name__)
_AUTO_CREATE_FLAG_VERSION = 4


def handle_api_versions(broker: Broker, request: Request, client_host: str) -> Any:
    return api_versions_response()


def handle_metadata(broker: Broker, request: Request, client_host: str) -> Any:
    body = request.body
    if body.topics is None:
        topics = [_describe(broker, topic) for topic in broker.topics.topics()]
    else:
        may_create = broker.config.auto_create_topics and (
            request.version < _AUTO_CREATE_FLAG_VERSION or body.allow_auto_topic_creation
        )
        topics = [_lookup(broker, wanted.name, may_create) for wanted in body.topics]
    listener = broker.config.advertised
    return MetadataResponse(
        brokers=[MetadataResponseBroker(node_id=broker.config.broker_id, host=listener.host, port=listener.port)],
        cluster_id=broker.cluster_id,
        controller_id=broker.config.broker_id,
        topics=topics,
    )


def _lookup(broker: Broker, name: str, may_create: bool) -> Any:
    topic = broker.topics.get(name)
    if topic is None and may_create:
        try:
            topic = broker.topics.create(name)
        except TopicError as error:
            return _missing(name, error.code)
    if topic is None:
        try:
            validate_name(name)
        except TopicError as error:
            return _missing(name, error.code)
        return _missing(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    return _describe(broker, topic)


def _missing(name: str, error: ErrorCode) -> Any:
    return MetadataResponseTopic(error_code=error, name=name, is_internal=False, partitions=[])


def _describe(broker: Broker, topic: Topic) -> Any:
    partitions = [
        MetadataResponsePartition(
            error_code=ErrorCode.NONE,
            partition_index=partition.index,
            leader_id=broker.config.broker_id,
            leader_epoch=partition.leader_epoch,
            replica_nodes=[broker.config.broker_id],
            isr_nodes=sorted(partition.isr),
            offline_replicas=[],
        )
        for partition in topic.partitions
    ]
    return MetadataResponseTopic(error_code=ErrorCode.NONE, name=topic.name, is_internal=topic.internal,
                                 partitions=partitions)


def handle_create_topics(broker: Broker, request: Request, client_host: str) -> Any:
    body = request.body
    names = [topic.name for topic in body.topics]
    results = []
    for topic in body.topics:
        if names.count(topic.name) > 1:
            results.append(_created(topic.name, ErrorCode.INVALID_REQUEST, "topic named more than once in the request"))
            continue
        try:
            partitions = _partition_count(broker, topic)
            broker.topics.create(
                topic.name, partitions, topic.replication_factor if not topic.assignments else 1,
                {config.name: config.value for config in topic.configs}, validate_only=body.validate_only,
            )
            results.append(_created(topic.name, ErrorCode.NONE, None))
        except TopicError as error:
            results.append(_created(topic.name, error.code, str(error)))
    return CreateTopicsResponse(topics=results)


def _partition_count(broker: Broker, topic: Any) -> int:
    """Manual assignments are accepted when every replica list is exactly this broker."""
    if not topic.assignments:
        return topic.num_partitions
    if topic.num_partitions != -1 or topic.replication_factor != -1:
        raise TopicError(ErrorCode.INVALID_REQUEST, "give either assignments or partitions and replication factor")
    indexes = sorted(assignment.partition_index for assignment in topic.assignments)
    if indexes != list(range(len(indexes))):
        raise TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, f"partitions must be numbered 0..n-1, got {indexes}")
    if any(assignment.broker_ids != [broker.config.broker_id] for assignment in topic.assignments):
        raise TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                         f"every replica list must be [{broker.config.broker_id}], the only broker")
    return len(indexes)


def _created(name: str, error: ErrorCode, message: str | None) -> Any:
    return CreatableTopicResult(name=name, error_code=error, error_message=message)


def handle_delete_topics(broker: Broker, request: Request, client_host: str) -> Any:
    results = []
    for name in request.body.topic_names:
        results.append(DeletableTopicResult(name=name, error_code=_delete(broker, name)))
    return DeleteTopicsResponse(responses=results)


def _delete(broker: Broker, name: str) -> ErrorCode:
    if not broker.config.delete_topic_enable:
        return ErrorCode.TOPIC_DELETION_DISABLED
    topic = broker.topics.get(name)
    if topic is not None and topic.internal:
        return ErrorCode.INVALID_TOPIC_EXCEPTION
    try:
        broker.topics.delete(name)
    except TopicError as error:
        return error.code
    broker.groups.offsets.delete_topic(name)
    return ErrorCode.NONE
