"""The Raft consensus core: a state machine with no I/O, driven like etcd-io/raft's RawNode.

Events go in (`tick`, `step`, `propose`, `read_index`, `transfer_leadership`, `compact`); work
comes out as a `Ready` that the driver persists, sends and applies before calling `advance()`.
Time is a count of ticks, randomness a seeded `random.Random`: the same events in the same order
always produce the same Readys, which is what lets the simulator replay a failing seed.

Implemented: elections with randomized timeouts and pre-vote (thesis §9.6), leader leases on
votes plus check-quorum (§4.2.3), log replication with fast backtracking by conflict term,
the current-term commit rule (paper §5.4.2, Figure 8), snapshots and InstallSnapshot,
read-index (§6.4) and leadership transfer via TimeoutNow (§3.10). Membership is fixed.

This module holds the node's roles, terms, votes and the follower's side; a leader's work in its
term (followers' progress, appends, the commit rule, read-index rounds, a transfer) is a
`Leadership` (leadership.py) that exists only while the node leads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from cluster.keeper.raft.config import Config
from cluster.keeper.raft.leadership import Leadership
from cluster.keeper.raft.log import RaftLog
from cluster.keeper.raft.messages import Message, MessageType
from cluster.keeper.raft.ready import Ready, ReadState
from cluster.keeper.raft.state import NO_NODE, DurableState, Entry, HardState, Role, Snapshot, SoftState

_VOTE_REQUESTS = (MessageType.PRE_VOTE, MessageType.VOTE)
_FROM_LEADER = (MessageType.APPEND, MessageType.HEARTBEAT, MessageType.SNAPSHOT)


class ProposalDropped(Exception):
    """The request was not accepted; `leader` is a hint where it might be (NO_NODE: unknown)."""

    def __init__(self, reason: str, leader: int) -> None:
        super().__init__(f"{reason} (leader hint: {leader})")
        self.leader = leader


@dataclass(frozen=True, slots=True)
class _HandedOut:
    """What the outstanding Ready promised, so advance() knows what became durable and applied."""

    last_index: int
    applied: int
    generation: int


class Raft:
    _leadership_type: type[Leadership] = Leadership
    """What a term of leadership is made of: a variant core may lead by other rules."""

    def __init__(self, config: Config, rng: random.Random, durable: DurableState = DurableState()) -> None:
        self.config = config
        self.id = config.id
        self._others = config.others
        self._quorum = config.quorum
        self._rng = rng
        hard = durable.hard_state
        self.log = RaftLog(durable.snapshot, durable.entries, hard.commit)
        self.term = hard.term
        self.vote = hard.vote
        self.role = Role.FOLLOWER
        self.leader = NO_NODE
        self._messages: list[Message] = []
        self._read_states: list[ReadState] = []
        self._votes: dict[int, bool] = {}
        self._leadership: Leadership | None = None
        """Present exactly while this node leads."""
        self._election_elapsed = 0
        self._heartbeat_elapsed = 0
        self._election_timeout = config.election_ticks
        self._handed_out: _HandedOut | None = None
        self._reported_hard = hard
        self._reported_soft = self.soft_state
        self._become_follower(self.term, NO_NODE)

    # ---------------------------------------------------------------- observation

    @property
    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    @property
    def soft_state(self) -> SoftState:
        return SoftState(self.term, self.role, self.leader)

    # ---------------------------------------------------------------- events

    def tick(self) -> None:
        """Advance logical time by one tick."""
        if self._leadership is not None:
            self._tick_leader(self._leadership)
        else:
            self._tick_election()

    def propose(self, data: bytes) -> Entry:
        """Append `data` to the log (leader only); the returned entry is committed once it comes
        back in `committed_entries` with the same term and index."""
        leadership = self._leadership
        if leadership is None:
            raise ProposalDropped("not the leader", self.leader)
        if leadership.transferee != NO_NODE:
            raise ProposalDropped("leadership transfer in progress", leadership.transferee)
        entry = Entry(self.term, self.log.last_index + 1, data)
        self.log.append(entry)
        leadership.broadcast_append(send_if_empty=False)
        return entry

    def read_index(self, context: bytes) -> None:
        """Ask for a linearizable read point; a `ReadState` with this (unique) context follows in
        a later Ready unless leadership changes first, in which case the request is lost."""
        if self._leadership is not None:
            self._leadership.read_index(context, self.id)
        elif self.leader != NO_NODE:
            self._send(MessageType.READ_INDEX, self.leader, context=context)
        else:
            raise ProposalDropped("no leader known", NO_NODE)

    def transfer_leadership(self, target: int) -> None:
        """Hand leadership to `target` once its log is complete (it then campaigns at once)."""
        if self._leadership is None:
            raise ProposalDropped("not the leader", self.leader)
        if self._leadership.transfer_to(target):
            self._election_elapsed = 0

    def compact(self, index: int, data: bytes) -> Snapshot:
        """Replace applied entries up to `index` by the application's snapshot `data`."""
        return self.log.compact(index, data)

    def step(self, m: Message) -> None:
        """Handle a message from a peer."""
        if m.term > self.term:
            if m.type in _VOTE_REQUESTS and not m.force and self._in_lease():
                return
            if m.type is MessageType.PRE_VOTE or (m.type is MessageType.PRE_VOTE_RESP and not m.reject):
                pass  # a pre-vote never changes terms; the real vote will
            else:
                self._become_follower(m.term, m.src if m.type in _FROM_LEADER else NO_NODE)
        elif m.term < self.term:
            if m.type in (MessageType.APPEND, MessageType.HEARTBEAT):
                # A stale leader we will never listen to again: tell it our term so it steps
                # down, or a node whose pre-votes are refused could be stranded at a higher term.
                self._send(MessageType.APPEND_RESP, m.src)
            elif m.type is MessageType.PRE_VOTE:
                self._send(MessageType.PRE_VOTE_RESP, m.src, reject=True)
            return

        if m.type in _VOTE_REQUESTS:
            self._handle_vote_request(m)
        elif self._leadership is not None:
            self._leadership.step(m)
        elif self.role is Role.FOLLOWER:
            self._step_follower(m)
        else:
            self._step_candidate(m)

    # ---------------------------------------------------------------- Ready

    def has_ready(self) -> bool:
        if self._handed_out is not None:
            return False
        hard, soft = self._reported_hard, self._reported_soft
        return bool(
            self._messages
            or self._read_states
            or self.log.has_unpersisted()
            or self.log.has_unapplied()
            or (hard.term, hard.vote, hard.commit) != (self.term, self.vote, self.log.committed)
            or (soft.role, soft.leader) != (self.role, self.leader)
        )

    def ready(self) -> Ready:
        """Hand out the pending work; call `advance()` once it is done (see `Ready`)."""
        if self._handed_out is not None:
            raise RuntimeError("ready() called again before advance()")
        hard, soft = self.hard_state, self.soft_state
        snapshot, entries = self.log.take_unpersisted()
        committed = self.log.take_unapplied()
        ready = Ready(
            soft_state=soft if soft != self._reported_soft else None,
            hard_state=hard if hard != self._reported_hard else None,
            entries=entries,
            snapshot=snapshot,
            committed_entries=committed,
            messages=tuple(self._messages),
            read_states=tuple(self._read_states),
        )
        self._messages.clear()
        self._read_states.clear()
        self._reported_hard, self._reported_soft = hard, soft
        self._handed_out = _HandedOut(self.log.last_index, self.log.applying, self.log.generation)
        return ready

    def advance(self) -> None:
        """The driver's acknowledgement: the last Ready is durable, sent and applied."""
        handed_out = self._handed_out
        if handed_out is None:
            raise RuntimeError("advance() without an outstanding ready()")
        self._handed_out = None
        self.log.stable_to(handed_out.last_index, handed_out.generation)
        self.log.applied_to(handed_out.applied)
        if self._leadership is not None:
            self._leadership.persisted(self.log.stable)

    # ---------------------------------------------------------------- roles

    def _reset(self, term: int) -> None:
        if term != self.term:
            self.term = term
            self.vote = NO_NODE
        self.leader = NO_NODE
        self._election_elapsed = 0
        self._heartbeat_elapsed = 0
        self._election_timeout = self.config.election_ticks + self._rng.randrange(self.config.election_ticks)
        self._votes = {}
        self._leadership = None

    def _become_follower(self, term: int, leader: int) -> None:
        self._reset(term)
        self.role = Role.FOLLOWER
        self.leader = leader

    def _become_pre_candidate(self) -> None:
        # Keeps term and vote: a pre-election that fails must leave no trace (thesis §9.6).
        self.role = Role.PRE_CANDIDATE
        self.leader = NO_NODE
        self._votes = {}

    def _become_candidate(self) -> None:
        self._reset(self.term + 1)
        self.role = Role.CANDIDATE
        self.vote = self.id

    def _become_leader(self) -> None:
        self._reset(self.term)
        self.role = Role.LEADER
        self.leader = self.id
        leadership = self._leadership = self._leadership_type(
            self.config, self.log, self.term, self._send, self._read_states.append
        )
        # An entry of our own term: only it can commit the entries of earlier terms (Figure 8).
        self.log.append(Entry(self.term, self.log.last_index + 1))
        leadership.broadcast_append(send_if_empty=True)

    def _in_lease(self) -> bool:
        """Heard from a live leader within the minimum election timeout: refuse to help depose it."""
        return self.leader != NO_NODE and self._election_elapsed < self.config.election_ticks

    # ---------------------------------------------------------------- time

    def _tick_election(self) -> None:
        self._election_elapsed += 1
        if self._election_elapsed >= self._election_timeout:
            self._election_elapsed = 0
            self._campaign(pre_vote=True, force=False)

    def _tick_leader(self, leadership: Leadership) -> None:
        self._heartbeat_elapsed += 1
        self._election_elapsed += 1
        if self._election_elapsed >= self.config.election_ticks:
            self._election_elapsed = 0
            if not leadership.quorum_recently_active():
                self._become_follower(self.term, NO_NODE)
                return
            leadership.transferee = NO_NODE  # a transfer that did not finish in time is abandoned
        if self._heartbeat_elapsed >= self.config.heartbeat_ticks:
            self._heartbeat_elapsed = 0
            leadership.heartbeat()

    # ---------------------------------------------------------------- elections

    def _campaign(self, pre_vote: bool, force: bool) -> None:
        if pre_vote:
            self._become_pre_candidate()
            kind, term = MessageType.PRE_VOTE, self.term + 1
        else:
            self._become_candidate()
            kind, term = MessageType.VOTE, self.term
        self._votes[self.id] = True
        if self._quorum == 1:
            self._won_election()
            return
        for peer in self._others:
            self._send(kind, peer, term=term, index=self.log.last_index, log_term=self.log.last_term, force=force)

    def _won_election(self) -> None:
        if self.role is Role.PRE_CANDIDATE:
            self._campaign(pre_vote=False, force=False)
        else:
            self._become_leader()

    def _can_vote_for(self, m: Message) -> bool:
        return (
            self.vote == m.src
            or (self.vote == NO_NODE and self.leader == NO_NODE)
            or (m.type is MessageType.PRE_VOTE and m.term > self.term)
        )

    def _handle_vote_request(self, m: Message) -> None:
        response = MessageType.PRE_VOTE_RESP if m.type is MessageType.PRE_VOTE else MessageType.VOTE_RESP
        if self._can_vote_for(m) and self.log.is_up_to_date(m.index, m.log_term):
            self._send(response, m.src, term=m.term)
            if m.type is MessageType.VOTE:
                self._election_elapsed = 0
                self.vote = m.src
        else:
            self._send(response, m.src, reject=True)

    def _step_candidate(self, m: Message) -> None:
        if m.type in _FROM_LEADER:
            self._become_follower(self.term, m.src)
            self._step_follower(m)
            return
        expected = MessageType.PRE_VOTE_RESP if self.role is Role.PRE_CANDIDATE else MessageType.VOTE_RESP
        if m.type is not expected:
            return
        self._votes.setdefault(m.src, not m.reject)
        granted = sum(self._votes.values())
        if granted >= self._quorum:
            self._won_election()
        elif len(self._votes) - granted >= self._quorum:
            self._become_follower(self.term, NO_NODE)

    # ---------------------------------------------------------------- follower

    def _step_follower(self, m: Message) -> None:
        if m.type in _FROM_LEADER:
            self._election_elapsed = 0
            self.leader = m.src
            if m.type is MessageType.APPEND:
                self._handle_append(m)
            elif m.type is MessageType.HEARTBEAT:
                self.log.commit_to(m.commit)
                self._send(MessageType.HEARTBEAT_RESP, m.src, context=m.context)
            else:
                self._handle_snapshot(m)
        elif m.type is MessageType.TIMEOUT_NOW:
            self._campaign(pre_vote=False, force=True)
        elif m.type is MessageType.READ_INDEX_RESP:
            self._read_states.append(ReadState(m.index, m.context))

    def _handle_append(self, m: Message) -> None:
        if m.index < self.log.committed:
            self._send(MessageType.APPEND_RESP, m.src, index=self.log.committed)
            return
        last_new = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last_new is not None:
            self._send(MessageType.APPEND_RESP, m.src, index=last_new)
            return
        hint, hint_term = self.log.find_conflict_by_term(m.index, m.log_term)
        self._send(MessageType.APPEND_RESP, m.src, index=m.index, reject=True, reject_hint=hint, log_term=hint_term)

    def _handle_snapshot(self, m: Message) -> None:
        snapshot = m.snapshot
        if snapshot.index <= self.log.committed:
            pass
        elif self.log.matches(snapshot.index, snapshot.term):
            self.log.commit_to(snapshot.index)
        else:
            self.log.restore(snapshot)
        self._send(MessageType.APPEND_RESP, m.src, index=max(self.log.committed, snapshot.index))

    # ---------------------------------------------------------------- output

    def _send(self, kind: MessageType, to: int, *, term: int | None = None, **fields: Any) -> None:
        self._messages.append(Message(kind, self.id, to, self.term if term is None else term, **fields))
