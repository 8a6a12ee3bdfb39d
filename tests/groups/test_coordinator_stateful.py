"""Random interleavings of group requests and time: the coordinator's promises hold throughout."""

import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cluster.broker.groups.coordinator import GroupConfig, GroupCoordinator, JoinRequest, JoinResponse, SyncResponse
from cluster.broker.protocol.errors import ErrorCode

PROTOCOLS = [(("range", b"r"),), (("range", b"r2"), ("sticky", b"s")), (("sticky", b"s2"), ("range", b"r3"))]


class CoordinatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        ids = itertools.count()
        self.coordinator = GroupCoordinator(GroupConfig(min_session_timeout_ms=100), lambda client: f"m{next(ids)}")
        self.now = 0
        self.tokens = itertools.count()
        self.outstanding: set[int] = set()
        self.known_members: list[str] = []
        self.generation_of: dict[str, int] = {}
        self.leader_members: dict[str, list[str]] = {}
        self.views: dict[int, tuple[str, str]] = {}
        """generation -> (leader, protocol) as the first successful JoinResponse told it."""
        self.assigned: dict[tuple[int, str], bytes] = {}
        self.highest_generation = 0

    def _token(self) -> int:
        token = next(self.tokens)
        self.outstanding.add(token)
        return token

    def _receive(self, replies) -> None:
        for token, response in replies:
            assert token in self.outstanding, f"token {token} answered twice or never asked"
            self.outstanding.discard(token)
            if isinstance(response, JoinResponse):
                self._receive_join(response)
            elif isinstance(response, SyncResponse) and response.error is ErrorCode.NONE:
                self.assigned.setdefault(("sync", token), response.assignment)

    def _receive_join(self, response: JoinResponse) -> None:
        if response.error in (ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED) and response.member_id not in self.known_members:
            self.known_members.append(response.member_id)
        if response.error is not ErrorCode.NONE:
            return
        view = (response.leader_id, response.protocol_name)
        assert self.views.setdefault(response.generation_id, view) == view, "members of one generation disagree"
        assert response.generation_id >= self.generation_of.get(response.member_id, 0)
        self.generation_of[response.member_id] = response.generation_id
        if response.member_id == response.leader_id:
            assert response.member_id in [m.member_id for m in response.members]
            self.leader_members[response.member_id] = [m.member_id for m in response.members]
        else:
            assert response.members == ()

    def _request(self, member_id: str, protocols) -> JoinRequest:
        return JoinRequest("g", member_id, "consumer", protocols, 1_000, 2_000, client_id="c")

    @rule(protocols=st.sampled_from(PROTOCOLS), v4=st.booleans())
    def join_new(self, protocols, v4):
        request = self._request("", protocols)
        request = JoinRequest(**{**request.__dict__, "require_known_member_id": v4})
        self._receive(self.coordinator.join(self._token(), request, self.now))

    @rule(data=st.data(), protocols=st.sampled_from(PROTOCOLS))
    def rejoin(self, data, protocols):
        if self.known_members:
            member = data.draw(st.sampled_from(self.known_members))
            self._receive(self.coordinator.join(self._token(), self._request(member, protocols), self.now))

    @rule(data=st.data())
    def sync(self, data):
        if not self.generation_of:
            return
        member = data.draw(st.sampled_from(sorted(self.generation_of)))
        generation = self.generation_of[member]
        assignments = {m: f"{generation}:{m}".encode() for m in self.leader_members.get(member, [])}
        token = self._token()
        replies = self.coordinator.sync(token, "g", generation, member, assignments, self.now)
        self._receive(replies)
        for replied_token, response in replies:
            if isinstance(response, SyncResponse) and response.error is ErrorCode.NONE and response.assignment:
                assert response.assignment.startswith(f"{generation}:".encode()), "assignment from another generation"

    @rule(data=st.data())
    def heartbeat(self, data):
        if self.generation_of:
            member = data.draw(st.sampled_from(sorted(self.generation_of)))
            self.coordinator.heartbeat("g", self.generation_of[member], member, self.now)

    @rule(data=st.data())
    def leave(self, data):
        if self.known_members:
            member = data.draw(st.sampled_from(self.known_members))
            self._receive(self.coordinator.leave("g", [member], self.now).replies)

    @rule(elapsed=st.integers(0, 2_500))
    def advance(self, elapsed):
        self.now += elapsed
        self._receive(self.coordinator.tick(self.now))

    @invariant()
    def generation_never_goes_back(self):
        description = self.coordinator.describe("g")
        generations = list(self.views)
        if generations:
            assert max(generations) >= self.highest_generation
            self.highest_generation = max(generations)
        if description.state == "Stable":
            assert len({m.assignment for m in description.members}) == len(description.members) or all(
                m.assignment == b"" for m in description.members
            )

    def teardown(self):
        # Long enough for every deadline to pass: nothing may stay unanswered.
        for _ in range(3):
            self.now += 10_000
            self._receive(self.coordinator.tick(self.now))
        assert not self.outstanding, f"requests never answered: {sorted(self.outstanding)}"


TestCoordinatorStateful = CoordinatorMachine.TestCase
TestCoordinatorStateful.settings = settings(max_examples=300, stateful_step_count=40)
