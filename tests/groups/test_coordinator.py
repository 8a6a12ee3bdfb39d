import itertools

import pytest

from cluster.broker.groups.coordinator import (
    GroupConfig,
    GroupCoordinator,
    JoinRequest,
    JoinResponse,
    SyncResponse,
)
from cluster.broker.protocol.errors import ErrorCode

SESSION = 10_000
REBALANCE = 30_000


def coordinator(initial_delay_ms: int = 0) -> GroupCoordinator:
    counter = itertools.count(1)
    return GroupCoordinator(GroupConfig(initial_rebalance_delay_ms=initial_delay_ms), lambda client: f"{client}-{next(counter)}")


def join_request(member_id: str = "", protocols=(("range", b"meta"),), **kwargs) -> JoinRequest:
    return JoinRequest(
        group_id=kwargs.pop("group_id", "g"),
        member_id=member_id,
        protocol_type=kwargs.pop("protocol_type", "consumer"),
        protocols=tuple(protocols),
        session_timeout_ms=kwargs.pop("session_timeout_ms", SESSION),
        rebalance_timeout_ms=kwargs.pop("rebalance_timeout_ms", REBALANCE),
        client_id=kwargs.pop("client_id", "c"),
        **kwargs,
    )


def only(replies, token):
    found = [response for t, response in replies if t == token]
    assert len(found) == 1, replies
    return found[0]


def stable_group_of_two(c: GroupCoordinator):
    """Two members joined and synced; returns their member ids (leader first)."""
    first = only(c.join("j1", join_request(), 0), "j1")
    assert first.error is ErrorCode.NONE and first.generation_id == 1 and first.leader_id == first.member_id
    only(c.sync("s1", "g", 1, first.member_id, {first.member_id: b"A"}, 0), "s1")
    replies = c.join("j2", join_request(), 1)
    assert replies == []
    assert c.heartbeat("g", 1, first.member_id, 2) is ErrorCode.REBALANCE_IN_PROGRESS
    replies = c.join("j1b", join_request(first.member_id), 3)
    leader, follower = only(replies, "j1b"), only(replies, "j2")
    assert leader.generation_id == follower.generation_id == 2
    assert [m.member_id for m in leader.members] == [first.member_id, follower.member_id]
    assert follower.members == ()
    replies = c.sync("s2", "g", 2, follower.member_id, {}, 4)
    assert replies == []
    replies = c.sync("s1b", "g", 2, leader.member_id, {leader.member_id: b"L", follower.member_id: b"F"}, 5)
    assert only(replies, "s1b") == SyncResponse(ErrorCode.NONE, b"L")
    assert only(replies, "s2") == SyncResponse(ErrorCode.NONE, b"F")
    return leader.member_id, follower.member_id


def test_two_members_rebalance_into_a_stable_generation():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    description = c.describe("g")
    assert description.state == "Stable" and description.protocol == "range"
    assert {m.member_id: m.assignment for m in description.members} == {leader: b"L", follower: b"F"}
    assert c.list_groups() == [("g", "consumer")]
    assert c.heartbeat("g", 2, follower, 6) is ErrorCode.NONE


def test_join_v4_hands_out_a_member_id_first():
    c = coordinator()
    response = only(c.join("j", join_request(require_known_member_id=True), 0), "j")
    assert response.error is ErrorCode.MEMBER_ID_REQUIRED and response.member_id == "c-1"
    response = only(c.join("j2", join_request("c-1", require_known_member_id=True), 1), "j2")
    assert response.error is ErrorCode.NONE and response.member_id == "c-1"


def test_a_member_id_that_was_never_handed_out_is_unknown():
    c = coordinator()
    assert only(c.join("j", join_request("nobody"), 0), "j").error is ErrorCode.UNKNOWN_MEMBER_ID


def test_leaving_triggers_a_rebalance_for_the_rest():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    result = c.leave("g", [leader, "ghost"], 10)
    assert result.member_errors == (ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID)
    assert c.heartbeat("g", 2, follower, 11) is ErrorCode.REBALANCE_IN_PROGRESS
    rejoined = only(c.join("j", join_request(follower), 12), "j")
    assert rejoined.generation_id == 3 and rejoined.leader_id == follower


def test_a_silent_member_expires_and_the_group_rebalances_without_it():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    follower_last_seen = 4  # its SyncGroup
    assert c.heartbeat("g", 2, leader, SESSION) is ErrorCode.NONE
    assert c.next_deadline_ms() == follower_last_seen + SESSION
    assert c.tick(follower_last_seen + SESSION - 1) == []
    assert len(c.describe("g").members) == 2
    c.tick(follower_last_seen + SESSION)
    assert [m.member_id for m in c.describe("g").members] == [leader]
    assert c.heartbeat("g", 2, follower, SESSION + 5) is ErrorCode.UNKNOWN_MEMBER_ID
    response = only(c.join("j", join_request(leader), SESSION + 6), "j")
    assert response.generation_id == 3 and [m.member_id for m in response.members] == [leader]


def test_members_that_do_not_rejoin_within_the_rebalance_timeout_are_dropped():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    assert c.join("j", join_request(follower, protocols=[("range", b"new")]), 10) == []
    assert c.heartbeat("g", 2, leader, 20) is ErrorCode.REBALANCE_IN_PROGRESS
    replies = c.tick(10 + REBALANCE)
    response = only(replies, "j")
    assert response.generation_id == 3 and response.leader_id == follower
    assert [m.member_id for m in response.members] == [follower]


def test_the_last_member_leaving_empties_the_group():
    c = coordinator()
    member = only(c.join("j", join_request(), 0), "j").member_id
    c.leave("g", [member], 1)
    description = c.describe("g")
    assert description.state == "Empty" and description.members == ()


def test_sync_and_heartbeat_errors():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    assert only(c.sync("s", "g", 1, follower, {}, 6), "s").error is ErrorCode.ILLEGAL_GENERATION
    assert only(c.sync("s", "g", 2, "ghost", {}, 6), "s").error is ErrorCode.UNKNOWN_MEMBER_ID
    assert only(c.sync("s", "other", 2, follower, {}, 6), "s").error is ErrorCode.UNKNOWN_MEMBER_ID
    assert c.heartbeat("g", 7, follower, 6) is ErrorCode.ILLEGAL_GENERATION
    assert only(c.sync("s", "g", 2, follower, {}, 6), "s") == SyncResponse(ErrorCode.NONE, b"F")


def test_a_pending_sync_is_answered_when_a_new_rebalance_starts():
    c = coordinator()
    leader, follower = stable_group_of_two(c)
    c.join("jf", join_request(follower, protocols=[("range", b"v2")]), 10)
    replies = c.join("jl", join_request(leader), 11)
    assert only(replies, "jl").generation_id == 3
    assert c.sync("sf", "g", 3, follower, {}, 12) == []
    replies = c.join("jf2", join_request(follower, protocols=[("range", b"v3")]), 13)
    assert only(replies, "sf").error is ErrorCode.REBALANCE_IN_PROGRESS


@pytest.mark.parametrize(
    "request_kwargs, error",
    [
        ({"group_id": ""}, ErrorCode.INVALID_GROUP_ID),
        ({"session_timeout_ms": 10}, ErrorCode.INVALID_SESSION_TIMEOUT),
        ({"protocol_type": "connect"}, ErrorCode.INCONSISTENT_GROUP_PROTOCOL),
        ({"protocols": [("roundrobin", b"")]}, ErrorCode.INCONSISTENT_GROUP_PROTOCOL),
    ],
)
def test_join_validation(request_kwargs, error):
    c = coordinator()
    only(c.join("first", join_request(), 0), "first")
    assert only(c.join("j", join_request(**request_kwargs), 1), "j").error is error


def test_the_protocol_most_members_prefer_is_chosen():
    c = coordinator(initial_delay_ms=100)
    both = [("roundrobin", b"r"), ("range", b"g")]
    assert c.join("a", join_request(protocols=both), 0) == []
    assert c.join("b", join_request(protocols=[("range", b"g2"), ("roundrobin", b"r2")]), 10) == []
    assert c.join("c", join_request(protocols=both), 20) == []
    replies = c.tick(120)
    assert {response.protocol_name for _, response in replies} == {"roundrobin"}
    leader = only(replies, "a")
    assert [m.metadata for m in leader.members] == [b"r", b"r2", b"r"]


def test_initial_delay_waits_for_more_members_but_not_beyond_the_rebalance_timeout():
    c = coordinator(initial_delay_ms=3_000)
    assert c.join("a", join_request(rebalance_timeout_ms=5_000), 0) == []
    assert c.tick(2_999) == []
    assert c.join("b", join_request(rebalance_timeout_ms=5_000), 2_000) == []
    assert c.join("c", join_request(rebalance_timeout_ms=5_000), 4_000) == []
    assert c.tick(4_999) == []
    replies = c.tick(5_000)
    assert {token for token, _ in replies} == {"a", "b", "c"}
    assert all(isinstance(r, JoinResponse) and r.generation_id == 1 for _, r in replies)


def test_offset_commit_rules():
    c = coordinator()
    assert c.validate_offset_commit("solo", -1, "", 0) is ErrorCode.NONE
    assert c.validate_offset_commit("", -1, "", 0) is ErrorCode.INVALID_GROUP_ID
    leader, follower = stable_group_of_two(c)
    assert c.validate_offset_commit("g", -1, "", 6) is ErrorCode.UNKNOWN_MEMBER_ID
    assert c.validate_offset_commit("g", 2, "ghost", 6) is ErrorCode.UNKNOWN_MEMBER_ID
    assert c.validate_offset_commit("g", 1, leader, 6) is ErrorCode.ILLEGAL_GENERATION
    assert c.validate_offset_commit("g", 2, leader, 6) is ErrorCode.NONE
    c.join("j", join_request(follower, protocols=[("range", b"x")]), 7)
    c.join("jl", join_request(leader), 8)
    assert c.validate_offset_commit("g", 3, leader, 9) is ErrorCode.REBALANCE_IN_PROGRESS


def test_groups_known_only_by_their_offsets_are_listed_and_described_as_empty():
    from cluster.broker.groups.offsets import CommittedOffset

    c = coordinator()
    c.offsets.commit("archived", {("t", 0): CommittedOffset(42)})
    assert c.list_groups() == [("archived", "")]
    assert c.describe("archived").state == "Empty"
    assert c.describe("never").state == "Dead"
