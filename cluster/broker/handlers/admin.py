"""ApiVersions, Metadata, CreateTopics and DeleteTopics: what clients learn and change about topics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.handlers.client import Client
from cluster.broker.controller.view import ClusterView
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
from cluster.broker.topics import TopicError, validate_name

_AUTO_CREATE_FLAG_VERSION = 4
_LISTENER_NOT_FOUND_VERSION = 6


def handle_api_versions(broker: Broker, request: Request, client: Client) -> Any:
    return api_versions_response()


def handle_metadata(broker: Broker, request: Request, client: Client) -> Any:
    """Brokers, controller, and each partition's leader, replicas, ISR and offline replicas, from the view.

    Brokers are named by their endpoints on the listener the request came in on, as Kafka does: a
    broker without that listener is left out, and a partition whose leader lacks it has no leader
    to offer (LISTENER_NOT_FOUND from v6, LEADER_NOT_AVAILABLE before). Topics auto-created here are
    described once the creation is stored; in a cluster their leaders follow shortly
    (LEADER_NOT_AVAILABLE until then, which clients retry on).
    """
    body = request.body
    answer = _MetadataAnswer(broker, client.listener, request.version)
    if body.topics is None:
        return answer.describe(list(broker.view().topics), {})
    names = [wanted.name for wanted in body.topics]
    may_create = broker.config.auto_create_topics and (
        request.version < _AUTO_CREATE_FLAG_VERSION or body.allow_auto_topic_creation
    )
    missing = [name for name in dict.fromkeys(names) if name not in broker.view().topics]
    if not (may_create and missing):
        return answer.describe(names, {})
    return _create_then_describe(broker, answer, names, missing)


async def _create_then_describe(broker: Broker, answer: _MetadataAnswer, names: list[str], missing: list[str]) -> Any:
    outcomes: dict[str, ErrorCode] = {}
    for name in missing:
        try:
            await broker.create_topic(name)
            outcomes[name] = ErrorCode.LEADER_NOT_AVAILABLE
        except TopicError as error:
            outcomes[name] = ErrorCode.LEADER_NOT_AVAILABLE if error.code == ErrorCode.TOPIC_ALREADY_EXISTS else error.code
    return answer.describe(names, outcomes)


@dataclass(frozen=True)
class _MetadataAnswer:
    broker: Broker
    listener: str
    version: int

    def describe(self, names: list[str], outcomes: dict[str, ErrorCode]) -> Any:
        """`outcomes`: what to say of topics just created (or refused) that the view does not show yet."""
        view = self.broker.view()
        brokers = [(registration.broker_id, registration.endpoint(self.listener))
                   for registration in sorted(view.brokers.values(), key=lambda b: b.broker_id)]
        return MetadataResponse(
            brokers=[MetadataResponseBroker(node_id=broker_id, host=endpoint.host, port=endpoint.port)
                     for broker_id, endpoint in brokers if endpoint is not None],
            cluster_id=self.broker.cluster_id,
            controller_id=view.controller if view.controller is not None else -1,
            topics=[self._topic(view, name, outcomes.get(name)) for name in names],
        )

    def _topic(self, view: ClusterView, name: str, outcome: ErrorCode | None) -> Any:
        info = view.topics.get(name)
        if info is None:
            return _missing(name, outcome if outcome is not None else _unknown_topic_error(name))
        partitions = [self._partition(view, name, index, replicas) for index, replicas in sorted(info.assignment.items())]
        return MetadataResponseTopic(error_code=ErrorCode.NONE, name=name, is_internal=name.startswith("__"),
                                     partitions=partitions)

    def _partition(self, view: ClusterView, name: str, index: int, replicas: tuple[int, ...]) -> Any:
        state = view.states.get((name, index))
        leader = state.leader if state is not None and state.leader in view.live else -1
        error = ErrorCode.NONE if leader >= 0 else ErrorCode.LEADER_NOT_AVAILABLE
        if leader >= 0 and view.brokers[leader].endpoint(self.listener) is None:
            leader = -1
            error = ErrorCode.LISTENER_NOT_FOUND if self.version >= _LISTENER_NOT_FOUND_VERSION else ErrorCode.LEADER_NOT_AVAILABLE
        return MetadataResponsePartition(
            error_code=error,
            partition_index=index,
            leader_id=leader,
            leader_epoch=state.leader_epoch if state is not None else -1,
            replica_nodes=list(replicas),
            isr_nodes=list(state.isr) if state is not None else [],
            offline_replicas=[replica for replica in replicas if replica not in view.live],
        )


def _unknown_topic_error(name: str) -> ErrorCode:
    try:
        validate_name(name)
    except TopicError as error:
        return error.code
    return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def _missing(name: str, error: ErrorCode) -> Any:
    return MetadataResponseTopic(error_code=error, name=name, is_internal=False, partitions=[])


def handle_create_topics(broker: Broker, request: Request, client: Client) -> Any:
    return _create_topics(broker, request.body)


async def _create_topics(broker: Broker, body: Any) -> Any:
    """Each topic on its own (in a cluster they wait for their leaders at the same time)."""
    names = [topic.name for topic in body.topics]
    results = await asyncio.gather(*(_create_topic(broker, topic, names.count(topic.name) > 1, body)
                                     for topic in body.topics))
    return CreateTopicsResponse(topics=list(results))


async def _create_topic(broker: Broker, topic: Any, repeated: bool, body: Any) -> Any:
    if repeated:
        return _created(topic.name, ErrorCode.INVALID_REQUEST, "topic named more than once in the request")
    try:
        partitions, replication_factor = _sizes(broker, topic)
        await broker.create_topic(topic.name, partitions, replication_factor,
                                  {config.name: config.value for config in topic.configs},
                                  validate_only=body.validate_only, leaders_within_ms=body.timeout_ms)
    except TopicError as error:
        return _created(topic.name, error.code, str(error))
    return _created(topic.name, ErrorCode.NONE, None)


def _sizes(broker: Broker, topic: Any) -> tuple[int, int]:
    """Partitions and replication factor; manual assignments only where every replica list is this broker alone."""
    if not topic.assignments:
        return topic.num_partitions, topic.replication_factor
    if broker.membership is not None:
        raise TopicError(ErrorCode.INVALID_REQUEST, "manual replica assignments are not supported: give partitions "
                         "and a replication factor, and the controller places the replicas")
    if topic.num_partitions != -1 or topic.replication_factor != -1:
        raise TopicError(ErrorCode.INVALID_REQUEST, "give either assignments or partitions and replication factor")
    indexes = sorted(assignment.partition_index for assignment in topic.assignments)
    if indexes != list(range(len(indexes))):
        raise TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, f"partitions must be numbered 0..n-1, got {indexes}")
    if any(assignment.broker_ids != [broker.config.broker_id] for assignment in topic.assignments):
        raise TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                         f"every replica list must be [{broker.config.broker_id}], the only broker")
    return len(indexes), 1


def _created(name: str, error: ErrorCode, message: str | None) -> Any:
    return CreatableTopicResult(name=name, error_code=error, error_message=message)


def handle_delete_topics(broker: Broker, request: Request, client: Client) -> Any:
    return _delete_topics(broker, request.body.topic_names)


async def _delete_topics(broker: Broker, names: list[str]) -> Any:
    return DeleteTopicsResponse(responses=[
        DeletableTopicResult(name=name, error_code=await _delete(broker, name)) for name in names
    ])


async def _delete(broker: Broker, name: str) -> ErrorCode:
    if not broker.config.delete_topic_enable:
        return ErrorCode.TOPIC_DELETION_DISABLED
    if name.startswith("__") and name in broker.view().topics:
        return ErrorCode.INVALID_TOPIC_EXCEPTION
    try:
        await broker.delete_topic(name)
    except TopicError as error:
        return error.code
    return ErrorCode.NONE
