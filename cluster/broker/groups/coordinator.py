"""The classic (eager) group coordinator as a sans-IO state machine.

JoinGroup and SyncGroup requests block until the rebalance reaches them, so the
coordinator cannot answer every request on the spot. Each call therefore takes
an opaque token for the request and returns the replies that became ready,
possibly for other members' earlier requests; `tick` releases replies that
timers make ready. The caller owns sockets and clocks: that keeps the
coordinator deterministic under test and reusable in the simulator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable, Hashable

from cluster.broker.groups.group import Group, GroupState, Member, Protocols
from cluster.broker.groups.offsets import OffsetStore
from cluster.broker.protocol.errors import ErrorCode


@dataclass(frozen=True)
class GroupConfig:
    """Kafka's group.* broker settings, with Kafka's defaults."""

    min_session_timeout_ms: int = 6_000
    max_session_timeout_ms: int = 1_800_000
    initial_rebalance_delay_ms: int = 3_000


@dataclass(frozen=True)
class JoinRequest:
    group_id: str
    member_id: str
    protocol_type: str
    protocols: Protocols
    session_timeout_ms: int
    rebalance_timeout_ms: int
    group_instance_id: str | None = None
    client_id: str = ""
    client_host: str = ""
    require_known_member_id: bool = False
    """JoinGroup v4+: a new member first receives its id with MEMBER_ID_REQUIRED."""


@dataclass(frozen=True)
class JoinedMember:
    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(frozen=True)
class JoinResponse:
    error: ErrorCode
    member_id: str
    generation_id: int = -1
    protocol_name: str = ""
    leader_id: str = ""
    members: tuple[JoinedMember, ...] = ()
    """Filled only for the leader, who computes the assignment."""


@dataclass(frozen=True)
class SyncResponse:
    error: ErrorCode
    assignment: bytes = b""


Reply = tuple[Hashable, JoinResponse | SyncResponse]


@dataclass(frozen=True)
class LeaveResult:
    member_errors: tuple[ErrorCode, ...]
    replies: list[Reply] = field(default_factory=list)


@dataclass(frozen=True)
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[MemberDescription, ...]


def random_member_id(client_id: str) -> str:
    """Kafka's member id shape: the client id and a UUID."""
    return f"{client_id}-{uuid.uuid4()}"


class GroupCoordinator:
    def __init__(
        self,
        config: GroupConfig = GroupConfig(),
        new_member_id: Callable[[str], str] = random_member_id,
    ) -> None:
        self.config = config
        self.offsets = OffsetStore()
        self._groups: dict[str, Group] = {}
        self._new_member_id = new_member_id

    def join(self, token: Hashable, request: JoinRequest, now_ms: int) -> list[Reply]:
        error = self._validate_join(request)
        if error is not ErrorCode.NONE:
            return [(token, JoinResponse(error, request.member_id))]
        group = self._groups.get(request.group_id)
        if group is None:
            if request.member_id:
                return [(token, JoinResponse(ErrorCode.UNKNOWN_MEMBER_ID, request.member_id))]
            group = self._groups[request.group_id] = Group(request.group_id)
        if not group.supports(request.protocol_type, request.protocols):
            return [(token, JoinResponse(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, request.member_id))]
        if not request.member_id:
            return self._join_new_member(group, token, request, now_ms)
        return self._join_known_member(group, token, request, now_ms)

    def sync(
        self, token: Hashable, group_id: str, generation: int, member_id: str, assignments: dict[str, bytes], now_ms: int
    ) -> list[Reply]:
        group = self._groups.get(group_id)
        member = group.members.get(member_id) if group else None
        if group is None or member is None:
            return [(token, SyncResponse(ErrorCode.UNKNOWN_MEMBER_ID))]
        if generation != group.generation:
            return [(token, SyncResponse(ErrorCode.ILLEGAL_GENERATION))]
        if group.state is GroupState.PREPARING_REBALANCE:
            return [(token, SyncResponse(ErrorCode.REBALANCE_IN_PROGRESS))]
        member.last_heartbeat_ms = now_ms
        if group.state is GroupState.STABLE:
            return [(token, SyncResponse(ErrorCode.NONE, member.assignment))]
        replies = self._supersede(member.sync_token, SyncResponse(ErrorCode.REBALANCE_IN_PROGRESS))
        member.sync_token = token
        if member_id == group.leader_id:
            replies += self._complete_sync(group, assignments)
        return replies

    def heartbeat(self, group_id: str, generation: int, member_id: str, now_ms: int) -> ErrorCode:
        group = self._groups.get(group_id)
        member = group.members.get(member_id) if group else None
        if group is None or member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if generation != group.generation:
            return ErrorCode.ILLEGAL_GENERATION
        member.last_heartbeat_ms = now_ms
        if group.state is GroupState.PREPARING_REBALANCE:
            return ErrorCode.REBALANCE_IN_PROGRESS
        return ErrorCode.NONE

    def leave(self, group_id: str, member_ids: list[str], now_ms: int) -> LeaveResult:
        group = self._groups.get(group_id)
        if group is None:
            return LeaveResult(tuple(ErrorCode.UNKNOWN_MEMBER_ID for _ in member_ids))
        errors: list[ErrorCode] = []
        replies: list[Reply] = []
        for member_id in member_ids:
            if group.pending_members.pop(member_id, None) is not None:
                errors.append(ErrorCode.NONE)
            elif member_id in group.members:
                replies += self._remove_member(group, member_id)
                errors.append(ErrorCode.NONE)
            else:
                errors.append(ErrorCode.UNKNOWN_MEMBER_ID)
        if ErrorCode.NONE in errors:
            replies += self._membership_changed(group, now_ms)
        return LeaveResult(tuple(errors), replies)

    def tick(self, now_ms: int) -> list[Reply]:
        """Expires silent members and lapsed rebalance deadlines."""
        replies: list[Reply] = []
        for group in list(self._groups.values()):
            replies += self._expire(group, now_ms)
        return replies

    def next_deadline_ms(self) -> int | None:
        """The earliest time at which `tick` has something to do, so a driver can sleep until then."""
        deadlines: list[int] = []
        for group in self._groups.values():
            deadlines += group.pending_members.values()
            deadlines += (m.last_heartbeat_ms + m.session_timeout_ms for m in group.members.values() if m.join_token is None)
            if group.join_deadline_ms is not None:
                deadlines.append(group.join_deadline_ms)
        return min(deadlines, default=None)

    def unload(self, owned: Callable[[str], bool]) -> list[Reply]:
        """This broker stopped coordinating the groups `owned` picks (it lost their offsets partition).

        They and their committed offsets are forgotten; a join or sync waiting in one of them is
        answered NOT_COORDINATOR, so its client finds the new coordinator."""
        replies: list[Reply] = []
        for group_id in [group_id for group_id in self._groups if owned(group_id)]:
            for member in self._groups.pop(group_id).members.values():
                replies += self._supersede(member.join_token, JoinResponse(ErrorCode.NOT_COORDINATOR, member.member_id))
                replies += self._supersede(member.sync_token, SyncResponse(ErrorCode.NOT_COORDINATOR))
        self.offsets.unload(owned)
        return replies

    def validate_offset_commit(self, group_id: str, generation: int, member_id: str, now_ms: int) -> ErrorCode:
        """Whether a commit may be written; the caller persists it, then applies it to `offsets`.

        Generation -1 is a commit from a consumer that manages its own
        partitions (assign mode): allowed only while no live group claims the id.
        """
        if not group_id:
            return ErrorCode.INVALID_GROUP_ID
        group = self._groups.get(group_id)
        if generation < 0 and (group is None or group.state is GroupState.EMPTY):
            return ErrorCode.NONE
        member = group.members.get(member_id) if group else None
        if group is None or member is None:
            return ErrorCode.UNKNOWN_MEMBER_ID
        if generation != group.generation:
            return ErrorCode.ILLEGAL_GENERATION
        if group.state is GroupState.COMPLETING_REBALANCE:
            return ErrorCode.REBALANCE_IN_PROGRESS
        member.last_heartbeat_ms = now_ms
        return ErrorCode.NONE

    def describe(self, group_id: str) -> GroupDescription:
        group = self._groups.get(group_id)
        if group is None:
            state = GroupState.EMPTY if self.offsets.has_group(group_id) else GroupState.DEAD
            return GroupDescription(group_id, state.value, "", "", ())
        stable = group.state is GroupState.STABLE
        members = tuple(
            MemberDescription(
                member.member_id,
                member.group_instance_id,
                member.client_id,
                member.client_host,
                member.metadata_for(group.protocol) if stable and group.protocol else b"",
                member.assignment if stable else b"",
            )
            for member in group.members.values()
        )
        return GroupDescription(group_id, group.state.value, group.protocol_type or "", group.protocol or "", members)

    def list_groups(self) -> list[tuple[str, str]]:
        """(group id, protocol type) of every group with members or committed offsets."""
        listed = {group_id: group.protocol_type or "" for group_id, group in self._groups.items()}
        for group_id in self.offsets.group_ids():
            listed.setdefault(group_id, "")
        return sorted(listed.items())

    def _validate_join(self, request: JoinRequest) -> ErrorCode:
        if not request.group_id:
            return ErrorCode.INVALID_GROUP_ID
        if not self.config.min_session_timeout_ms <= request.session_timeout_ms <= self.config.max_session_timeout_ms:
            return ErrorCode.INVALID_SESSION_TIMEOUT
        return ErrorCode.NONE

    def _join_new_member(self, group: Group, token: Hashable, request: JoinRequest, now_ms: int) -> list[Reply]:
        member_id = self._new_member_id(request.client_id)
        if request.require_known_member_id:
            group.pending_members[member_id] = now_ms + request.session_timeout_ms
            return [(token, JoinResponse(ErrorCode.MEMBER_ID_REQUIRED, member_id))]
        return self._add_member(group, token, member_id, request, now_ms)

    def _join_known_member(self, group: Group, token: Hashable, request: JoinRequest, now_ms: int) -> list[Reply]:
        member = group.members.get(request.member_id)
        if member is None:
            if request.member_id in group.pending_members:
                return self._add_member(group, token, request.member_id, request, now_ms)
            return [(token, JoinResponse(ErrorCode.UNKNOWN_MEMBER_ID, request.member_id))]
        unchanged = member.protocols == request.protocols
        if group.state is GroupState.COMPLETING_REBALANCE and unchanged:
            return [(token, self._join_response(group, member))]
        if group.state is GroupState.STABLE and unchanged and member.member_id != group.leader_id:
            return [(token, self._join_response(group, member))]
        replies = self._supersede(member.join_token, JoinResponse(ErrorCode.REBALANCE_IN_PROGRESS, member.member_id))
        self._update_member(member, request, token, now_ms)
        return replies + self._membership_changed(group, now_ms)

    def _add_member(self, group: Group, token: Hashable, member_id: str, request: JoinRequest, now_ms: int) -> list[Reply]:
        group.pending_members.pop(member_id, None)
        if not group.members:
            group.protocol_type = request.protocol_type
        member = Member(
            member_id=member_id,
            group_instance_id=request.group_instance_id,
            client_id=request.client_id,
            client_host=request.client_host,
            session_timeout_ms=request.session_timeout_ms,
            rebalance_timeout_ms=request.rebalance_timeout_ms,
            protocols=request.protocols,
            last_heartbeat_ms=now_ms,
            join_token=token,
        )
        group.members[member_id] = member
        if group.initial_join_limit_ms is not None and group.join_deadline_ms is not None:
            # Kafka's initial delay: each arrival while a new group forms extends the wait, up to a limit.
            group.join_deadline_ms = min(now_ms + self.config.initial_rebalance_delay_ms, group.initial_join_limit_ms)
        return self._membership_changed(group, now_ms)

    @staticmethod
    def _update_member(member: Member, request: JoinRequest, token: Hashable, now_ms: int) -> None:
        member.protocols = request.protocols
        member.session_timeout_ms = request.session_timeout_ms
        member.rebalance_timeout_ms = request.rebalance_timeout_ms
        member.last_heartbeat_ms = now_ms
        member.join_token = token

    def _membership_changed(self, group: Group, now_ms: int) -> list[Reply]:
        """A member arrived, left, expired or changed: start a rebalance or finish the current one."""
        replies: list[Reply] = []
        if group.state is not GroupState.PREPARING_REBALANCE:
            replies += self._prepare_rebalance(group, now_ms)
        if group.initial_join_limit_ms is None and group.all_members_joined():
            replies += self._complete_join(group, now_ms)
        return replies

    def _prepare_rebalance(self, group: Group, now_ms: int) -> list[Reply]:
        replies: list[Reply] = []
        for member in group.members.values():
            replies += self._supersede(member.sync_token, SyncResponse(ErrorCode.REBALANCE_IN_PROGRESS))
            member.sync_token = None
        rebalance_timeout = group.rebalance_timeout_ms()
        if group.state is GroupState.EMPTY and self.config.initial_rebalance_delay_ms > 0:
            group.initial_join_limit_ms = now_ms + max(rebalance_timeout, self.config.initial_rebalance_delay_ms)
            group.join_deadline_ms = now_ms + self.config.initial_rebalance_delay_ms
        else:
            group.join_deadline_ms = now_ms + rebalance_timeout
        group.state = GroupState.PREPARING_REBALANCE
        return replies

    def _complete_join(self, group: Group, now_ms: int) -> list[Reply]:
        """Ends the join phase: members that did not rejoin in time are dropped, a generation begins."""
        replies: list[Reply] = []
        for member_id in [m.member_id for m in group.members.values() if m.join_token is None]:
            replies += self._remove_member(group, member_id)
        group.pending_members.clear()
        group.join_deadline_ms = group.initial_join_limit_ms = None
        group.generation += 1
        if not group.members:
            group.state, group.protocol, group.protocol_type, group.leader_id = GroupState.EMPTY, None, None, None
            return replies
        group.protocol = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.state = GroupState.COMPLETING_REBALANCE
        for member in group.members.values():
            member.assignment = b""
            member.last_heartbeat_ms = now_ms
            replies.append((member.join_token, self._join_response(group, member)))
            member.join_token = None
        return replies

    def _complete_sync(self, group: Group, assignments: dict[str, bytes]) -> list[Reply]:
        """The leader's assignment ends the rebalance; members waiting in SyncGroup get their part."""
        replies: list[Reply] = []
        for member in group.members.values():
            member.assignment = assignments.get(member.member_id, b"")
            if member.sync_token is not None:
                replies.append((member.sync_token, SyncResponse(ErrorCode.NONE, member.assignment)))
                member.sync_token = None
        group.state = GroupState.STABLE
        return replies

    def _join_response(self, group: Group, member: Member) -> JoinResponse:
        assert group.protocol is not None and group.leader_id is not None
        members: tuple[JoinedMember, ...] = ()
        if member.member_id == group.leader_id:
            members = tuple(
                JoinedMember(m.member_id, m.group_instance_id, m.metadata_for(group.protocol))
                for m in group.members.values()
            )
        return JoinResponse(ErrorCode.NONE, member.member_id, group.generation, group.protocol, group.leader_id, members)

    def _remove_member(self, group: Group, member_id: str) -> list[Reply]:
        member = group.members.pop(member_id)
        return self._supersede(member.join_token, JoinResponse(ErrorCode.UNKNOWN_MEMBER_ID, member_id)) + self._supersede(
            member.sync_token, SyncResponse(ErrorCode.UNKNOWN_MEMBER_ID)
        )

    def _expire(self, group: Group, now_ms: int) -> list[Reply]:
        replies: list[Reply] = []
        for member_id, deadline in list(group.pending_members.items()):
            if now_ms >= deadline:
                del group.pending_members[member_id]
        expired = [m.member_id for m in group.members.values() if m.session_expired(now_ms)]
        for member_id in expired:
            replies += self._remove_member(group, member_id)
        if expired and group.state is not GroupState.PREPARING_REBALANCE:
            replies += self._membership_changed(group, now_ms)
        if group.state is GroupState.PREPARING_REBALANCE and (
            group.all_members_joined() and group.initial_join_limit_ms is None
            or group.join_deadline_ms is not None and now_ms >= group.join_deadline_ms
        ):
            replies += self._complete_join(group, now_ms)
        return replies

    @staticmethod
    def _supersede(token: Hashable | None, response: JoinResponse | SyncResponse) -> list[Reply]:
        """Every token gets exactly one reply: a request overtaken by events is answered with an error."""
        return [] if token is None else [(token, response)]
