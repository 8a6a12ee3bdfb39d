"""FindCoordinator and the consumer group APIs, on top of the sans-IO group coordinator.

A group's coordinator is the leader of its __consumer_offsets partition: FindCoordinator
names it, and any other broker answers the group's requests NOT_COORDINATOR. JoinGroup and
SyncGroup wait for the rebalance: the request's future is the coordinator's token, and the
broker resolves it when the reply is ready. OffsetCommit waits for its commit to be replicated.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable

from cluster.broker.broker import Broker
from cluster.broker.handlers.client import Client
from cluster.broker.groups.coordinator import JoinRequest, JoinResponse, SyncResponse
from cluster.broker.groups.offsets import CommittedOffset
from cluster.broker.protocol.apis.describe_groups import DescribedGroup, DescribedGroupMember, DescribeGroupsResponse
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.protocol.apis.find_coordinator import TRANSACTION_KEY, FindCoordinatorResponse
from cluster.broker.protocol.apis.heartbeat import HeartbeatResponse
from cluster.broker.protocol.apis.join_group import JoinGroupResponse, JoinGroupResponseMember
from cluster.broker.protocol.apis.leave_group import LeaveGroupResponse, MemberResponse
from cluster.broker.protocol.apis.list_groups import ListedGroup, ListGroupsResponse
from cluster.broker.protocol.apis.offset_commit import (
    OffsetCommitResponse,
    OffsetCommitResponsePartition,
    OffsetCommitResponseTopic,
)
from cluster.broker.protocol.apis.offset_fetch import (
    OffsetFetchResponse,
    OffsetFetchResponsePartition,
    OffsetFetchResponseTopic,
)
from cluster.broker.protocol.apis.sync_group import SyncGroupResponse
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import Request
from cluster.broker.replication import CompleteProduce

GROUP_KEY = 0
MAX_METADATA_BYTES = 4096
"""offset.metadata.max.bytes"""
_MEMBER_ID_REQUIRED_VERSION = 4


def handle_find_coordinator(broker: Broker, request: Request, client: Client) -> Any:
    """A group's coordinator leads its __consumer_offsets partition, a transactional id's its
    __transaction_state partition; either topic is created on first use."""
    if getattr(request.body, "key_type", GROUP_KEY) == TRANSACTION_KEY:
        return _find_coordinator(broker.transactions.find_coordinator(request.body.key), client.listener)
    return _find_coordinator(broker.find_coordinator(request.body.key), client.listener)


async def _find_coordinator(finding: Awaitable[BrokerRegistration | None], listener: str) -> Any:
    """The coordinator's endpoint on the listener the request came in on; none there: not available (Kafka's)."""
    coordinator = await finding
    if coordinator is None:
        return FindCoordinatorResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE, node_id=-1, host="", port=-1,
                                       error_message="the coordinator's partition has no leader yet")
    endpoint = coordinator.endpoint(listener)
    if endpoint is None:
        return FindCoordinatorResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE, node_id=-1, host="", port=-1,
                                       error_message=f"the coordinator has no {listener} listener")
    return FindCoordinatorResponse(error_code=ErrorCode.NONE, node_id=coordinator.broker_id,
                                   host=endpoint.host, port=endpoint.port)


def handle_join_group(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    if not broker.coordinates(body.group_id):
        return JoinGroupResponse(error_code=ErrorCode.NOT_COORDINATOR, generation_id=-1, protocol_name="",
                                 leader="", member_id=body.member_id, members=[])
    join = JoinRequest(
        group_id=body.group_id,
        member_id=body.member_id,
        protocol_type=body.protocol_type,
        protocols=tuple((p.name, bytes(p.metadata)) for p in body.protocols),
        session_timeout_ms=body.session_timeout_ms,
        rebalance_timeout_ms=body.rebalance_timeout_ms if body.rebalance_timeout_ms >= 0 else body.session_timeout_ms,
        group_instance_id=body.group_instance_id,
        client_id=request.header.client_id or "",
        client_host=client.host,
        require_known_member_id=request.version >= _MEMBER_ID_REQUIRED_VERSION,
    )
    reply: asyncio.Future[JoinResponse] = asyncio.get_running_loop().create_future()
    broker.deliver(broker.groups.join(reply, join, broker.elapsed_ms()))
    return _join_response(reply)


async def _join_response(reply: asyncio.Future[JoinResponse]) -> Any:
    result = await reply
    return JoinGroupResponse(
        error_code=result.error,
        generation_id=result.generation_id,
        protocol_name=result.protocol_name,
        leader=result.leader_id,
        member_id=result.member_id,
        members=[JoinGroupResponseMember(member_id=m.member_id, group_instance_id=m.group_instance_id,
                                         metadata=m.metadata) for m in result.members],
    )


def handle_sync_group(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    if not broker.coordinates(body.group_id):
        return SyncGroupResponse(error_code=ErrorCode.NOT_COORDINATOR, assignment=b"")
    assignments = {a.member_id: bytes(a.assignment) for a in body.assignments}
    reply: asyncio.Future[SyncResponse] = asyncio.get_running_loop().create_future()
    broker.deliver(broker.groups.sync(reply, body.group_id, body.generation_id, body.member_id, assignments,
                                      broker.elapsed_ms()))
    return _sync_response(reply)


async def _sync_response(reply: asyncio.Future[SyncResponse]) -> Any:
    result = await reply
    return SyncGroupResponse(error_code=result.error, assignment=result.assignment)


def handle_heartbeat(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    if not broker.coordinates(body.group_id):
        return HeartbeatResponse(error_code=ErrorCode.NOT_COORDINATOR)
    return HeartbeatResponse(
        error_code=broker.groups.heartbeat(body.group_id, body.generation_id, body.member_id, broker.elapsed_ms())
    )


def handle_leave_group(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    if not broker.coordinates(body.group_id):
        return LeaveGroupResponse(error_code=ErrorCode.NOT_COORDINATOR, members=[])
    members = [m.member_id for m in body.members] if request.version >= 3 else [body.member_id]
    result = broker.groups.leave(body.group_id, members, broker.elapsed_ms())
    broker.deliver(result.replies)
    if request.version < 3:
        return LeaveGroupResponse(error_code=result.member_errors[0])
    return LeaveGroupResponse(
        error_code=ErrorCode.NONE,
        members=[MemberResponse(member_id=m.member_id, group_instance_id=m.group_instance_id, error_code=error)
                 for m, error in zip(body.members, result.member_errors)],
    )


def handle_offset_commit(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    group_error = broker.groups.validate_offset_commit(body.group_id, body.generation_id_or_member_epoch,
                                                       body.member_id, broker.elapsed_ms())
    committed_at = broker.clock()
    if group_error is ErrorCode.NONE and not broker.coordinates(body.group_id):
        group_error = ErrorCode.NOT_COORDINATOR
    errors: dict[tuple[str, int], ErrorCode] = {}
    accepted: dict[tuple[str, int], CommittedOffset] = {}
    for topic in body.topics:
        for partition in topic.partitions:
            key = (topic.name, partition.partition_index)
            errors[key] = _commit_error(broker, group_error, topic.name, partition)
            if errors[key] is ErrorCode.NONE:
                accepted[key] = CommittedOffset(partition.committed_offset, partition.committed_leader_epoch,
                                                partition.committed_metadata, committed_at)
    if not accepted:
        return _offset_commit_response(body, errors)
    written = broker.commit_offsets(body.group_id, accepted)
    if isinstance(written, ErrorCode):
        return _offset_commit_response(body, {**errors, **dict.fromkeys(accepted, written)})
    return _answer_offset_commit(broker, body, errors, list(accepted), written)


async def _answer_offset_commit(broker: Broker, body: Any, errors: dict[tuple[str, int], ErrorCode],
                                accepted: list[tuple[str, int]], written: asyncio.Future[CompleteProduce]) -> Any:
    outcome = broker.commit_error((await written).error)
    return _offset_commit_response(body, {**errors, **dict.fromkeys(accepted, outcome)})


def _offset_commit_response(body: Any, errors: dict[tuple[str, int], ErrorCode]) -> Any:
    return OffsetCommitResponse(topics=[
        OffsetCommitResponseTopic(name=topic.name, partitions=[
            OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=errors[(topic.name, p.partition_index)])
            for p in topic.partitions
        ])
        for topic in body.topics
    ])


def _commit_error(broker: Broker, group_error: ErrorCode, topic: str, partition: Any) -> ErrorCode:
    if group_error is not ErrorCode.NONE:
        return group_error
    if not broker.view().replicas(topic, partition.partition_index):
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    if partition.committed_metadata is not None and len(partition.committed_metadata.encode()) > MAX_METADATA_BYTES:
        return ErrorCode.OFFSET_METADATA_TOO_LARGE
    return ErrorCode.NONE


def handle_offset_fetch(broker: Broker, request: Request, client: Client) -> Any:
    body = request.body
    error = ErrorCode.NONE if broker.coordinates(body.group_id) else ErrorCode.NOT_COORDINATOR
    if body.topics is None:
        committed = broker.groups.offsets.fetch(body.group_id) if error is ErrorCode.NONE else {}
        wanted: dict[str, list[int]] = {}
        for topic, index in committed:
            wanted.setdefault(topic, []).append(index)
    else:
        wanted = {topic.name: list(topic.partition_indexes) for topic in body.topics}
        committed = broker.groups.offsets.fetch(body.group_id, [(t, i) for t, indexes in wanted.items() for i in indexes])
    topics = []
    for name, indexes in wanted.items():
        partitions = []
        for index in indexes:
            found = committed.get((name, index)) if error is ErrorCode.NONE else None
            partitions.append(OffsetFetchResponsePartition(
                partition_index=index,
                committed_offset=found.offset if found else -1,
                committed_leader_epoch=found.leader_epoch if found else -1,
                metadata=found.metadata if found else "",
                error_code=error,
            ))
        topics.append(OffsetFetchResponseTopic(name=name, partitions=partitions))
    return OffsetFetchResponse(topics=topics, error_code=error)


def handle_describe_groups(broker: Broker, request: Request, client: Client) -> Any:
    groups = []
    for group_id in request.body.groups:
        described = broker.groups.describe(group_id)
        groups.append(DescribedGroup(
            error_code=ErrorCode.NONE if broker.coordinates(group_id) else ErrorCode.NOT_COORDINATOR,
            group_id=described.group_id,
            group_state=described.state,
            protocol_type=described.protocol_type,
            protocol_data=described.protocol,
            members=[DescribedGroupMember(member_id=m.member_id, group_instance_id=m.group_instance_id,
                                          client_id=m.client_id, client_host=m.client_host,
                                          member_metadata=m.metadata, member_assignment=m.assignment)
                     for m in described.members],
        ))
    return DescribeGroupsResponse(groups=groups)


def handle_list_groups(broker: Broker, request: Request, client: Client) -> Any:
    return ListGroupsResponse(
        error_code=ErrorCode.NONE,
        groups=[ListedGroup(group_id=group_id, protocol_type=protocol_type)
                for group_id, protocol_type in broker.groups.list_groups()],
    )
