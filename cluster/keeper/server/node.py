"""One keeper server's replicated core: the znode state, Raft, and the routes between them.

Every write goes to the leader (a follower forwards it), whose Preparer turns it
into a txn and proposes it; every server applies committed txns in log order,
and the server holding the client's connection answers after its own apply.
The leader alone tracks session liveness (followers forward the sessions their
clients kept alive) and expires sessions through the log. Reads are local;
`barrier` gives a read-index point for sync and linearizable reads.

A client waiting on a write or a barrier is never left hanging: if leadership
changes, the leader refuses, or the answer takes longer than REQUEST_TIMEOUT_S,
its callback gets None and the connection is dropped, leaving the outcome
unknown to the client, exactly as a ZooKeeper client treats a connection loss.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cluster.keeper.config import KeeperConfig
from cluster.keeper.errors import KeeperError
from cluster.keeper.jute import JuteError, decode_request
from cluster.keeper.prepare import Preparer
from cluster.keeper.raft import NO_NODE, Config, DurableState, Entry, Message, ProposalDropped, Raft, ReadState, Role, Snapshot, SoftState
from cluster.keeper.reads import Reader
from cluster.keeper.replica import Applied, Replica
from cluster.keeper.requests import CloseSession, CreateSession, WriteRequest
from cluster.keeper.server.log_entries import decode_entry, encode_item
from cluster.keeper.server.peer_messages import Forward, PeerMessage, Refuse, RequestId, Touch
from cluster.keeper.server.translate import write_request
from cluster.keeper.sessions import SessionTracker
from cluster.keeper.transactions import CloseSessionTxn, CreateSessionTxn, Txn
from cluster.keeper.tree import Change
from cluster.keeper.watches import WatchManager

REQUEST_TIMEOUT_S = 10.0
ELECTION_TICKS = 10
MAX_APPEND_ENTRIES = 256
MAX_WAITING_FORWARDS = 10_000

_log = logging.getLogger(__name__)

WriteCallback = Callable[[Applied | None], None]
BarrierCallback = Callable[[bool], None]


class Peers(Protocol):
    def send(self, peer_id: int, message: PeerMessage) -> None: ...


class SessionHolder(Protocol):
    """A client connection as the node sees it: a watcher, and the owner of a session."""

    def notify(self, change: Change) -> None: ...
    def session_closed(self) -> None: ...
    def drop(self, reason: str) -> None: ...


@dataclass
class _PendingWrite:
    on_done: WriteCallback
    deadline: float
    epoch: tuple[int, int]


@dataclass
class _PendingBarrier:
    waiters: list[BarrierCallback]
    deadline: float
    epoch: tuple[int, int]
    index: int = -1


class KeeperNode:
    def __init__(
        self, config: KeeperConfig, raft_durable: DurableState, peers: Peers,
        wall_clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.id = config.my_id
        self.incarnation = random.getrandbits(63)
        self._peers = peers
        self._wall_clock = wall_clock
        self._clock = monotonic
        snapshot: Snapshot = raft_durable.snapshot
        self.replica = Replica.restore(snapshot.data) if snapshot.data else Replica()
        self.watches = WatchManager()
        self.reader = Reader(self.replica, self.watches)
        self.raft = Raft(
            Config(self.id, tuple(p.id for p in config.peers), ELECTION_TICKS, 1, MAX_APPEND_ENTRIES),
            random.Random(), raft_durable,
        )
        self.applied_index = snapshot.index
        self._preparer: Preparer | None = None
        self._tracker: SessionTracker | None = None
        self._waiting_forwards: list[tuple[Forward, WriteRequest | None]] = []
        self._batch: list[tuple[bytes, RequestId | None]] = []
        self._numbers = itertools.count(1)
        self._pending: dict[int, _PendingWrite] = {}
        self._barriers: dict[bytes, _PendingBarrier] = {}
        self._next_barrier: list[BarrierCallback] = []
        self._touched: set[int] = set()
        self.holders: dict[int, SessionHolder] = {}
        self._schedule: Callable[[], None] = lambda: None
        self._soft = SoftState(self.raft.term, self.raft.role, self.raft.leader)

    def attach(self, schedule: Callable[[], None]) -> None:
        """The driver's `schedule`: called after every event that may give the core work."""
        self._schedule = schedule

    # ---------------------------------------------------------------- what clients see

    @property
    def last_zxid(self) -> int:
        return self.replica.last_zxid

    @property
    def serving(self) -> bool:
        """A leader is known: writes can commit and sessions can be created and kept."""
        return self._soft.leader != NO_NODE

    @property
    def mode(self) -> str:
        if self.config.standalone:
            return "standalone"
        return "leader" if self._soft.role is Role.LEADER else "follower"

    def now_ms(self) -> int:
        """Txn time (ctime, mtime): the leader's wall clock, as in ZooKeeper."""
        return int(self._wall_clock() * 1000)

    def _elapsed_ms(self) -> int:
        """Session deadlines: a monotonic clock, so a wall-clock jump expires nobody."""
        return int(self._clock() * 1000)

    def create_session(self, timeout_ms: int, on_done: WriteCallback) -> None:
        self._submit(0, b"", timeout_ms, CreateSession(timeout_ms), on_done)

    def submit(self, session_id: int, payload: bytes, request: WriteRequest, on_done: WriteCallback) -> None:
        """A client's write from a connection on this server: its jute frame payload (what a
        follower forwards) and what the connection already decoded it to (what a leader prepares)."""
        self._submit(session_id, payload, 0, request, on_done)

    def touch(self, session_id: int) -> None:
        if self._tracker is not None:
            self._tracker.touch(session_id, self._elapsed_ms())
        else:
            self._touched.add(session_id)

    def barrier(self, on_done: BarrierCallback) -> None:
        """Calls back True once this server has applied everything committed before the call
        (a read-index round; many barriers asked in one loop iteration share a round)."""
        if not self._next_barrier:
            self._schedule()
        self._next_barrier.append(on_done)

    # ---------------------------------------------------------------- requests in flight

    def _epoch(self) -> tuple[int, int]:
        return self.raft.term, self.raft.leader

    def _submit(
        self, session_id: int, payload: bytes, create_ms: int, request: WriteRequest, on_done: WriteCallback
    ) -> None:
        request_id = RequestId(self.id, self.incarnation, next(self._numbers))
        self._pending[request_id.number] = _PendingWrite(on_done, self._clock() + REQUEST_TIMEOUT_S, self._epoch())
        self._route(Forward(request_id, session_id, payload, create_ms), request)

    def _route(self, forward: Forward, request: WriteRequest) -> None:
        if self.raft.role is Role.LEADER:
            self._accept(forward, request)
        elif self.raft.leader != NO_NODE:
            self._peers.send(self.raft.leader, forward)
        else:
            self._refused(forward.request)

    def _accept(self, forward: Forward, request: WriteRequest | None = None) -> None:
        """The leader's side: prepare and propose, or hold the forward until this leader can prepare.
        `request` is the decoded write when it comes from this server's own client."""
        if self._preparer is None:
            if len(self._waiting_forwards) >= MAX_WAITING_FORWARDS:
                self._refuse(forward.request)
            else:
                self._waiting_forwards.append((forward, request))
            return
        try:
            request = request if request is not None else self._write_request(forward)
        except (KeeperError, JuteError) as error:
            _log.warning("refusing a forwarded request that cannot be prepared: %s", error)
            self._refuse(forward.request)
            return
        self._propose(request, forward.session_id, forward.request)

    @staticmethod
    def _write_request(forward: Forward) -> WriteRequest:
        if forward.create_session_ms:
            return CreateSession(forward.create_session_ms)
        header, record = decode_request(forward.payload)
        return write_request(header.type, record)

    def _propose(self, request: WriteRequest, session_id: int, request_id: RequestId | None) -> None:
        """Prepared now, proposed with the rest of this loop iteration's txns in `before_ready`."""
        assert self._preparer is not None
        txn = self._preparer.prepare(request, session_id, self.now_ms())
        if not self._batch:
            self._schedule()
        self._batch.append((encode_item(txn, request_id), request_id))

    def _propose_batch(self) -> None:
        batch, self._batch = self._batch, []
        try:
            self.raft.propose(b"".join(item for item, _ in batch))
        except ProposalDropped:
            self._stop_leading()  # the prepared txns will never apply: the overlay is wrong now
            for _, request_id in batch:
                if request_id is not None:
                    self._refuse(request_id)

    def _refuse(self, request: RequestId) -> None:
        if request.origin == self.id:
            self._refused(request)
        else:
            self._peers.send(request.origin, Refuse(request))

    def _refused(self, request: RequestId) -> None:
        if request.incarnation == self.incarnation:
            pending = self._pending.pop(request.number, None)
            if pending is not None:
                pending.on_done(None)

    def _issue_barrier(self) -> None:
        waiters, self._next_barrier = self._next_barrier, []
        context = f"{self.incarnation}:{next(self._numbers)}".encode()
        try:
            self.raft.read_index(context)
        except ProposalDropped:
            for waiter in waiters:
                waiter(False)
            return
        self._barriers[context] = _PendingBarrier(waiters, self._clock() + REQUEST_TIMEOUT_S, self._epoch())

    def _release_barriers(self) -> None:
        for context in [c for c, b in self._barriers.items() if 0 <= b.index <= self.applied_index]:
            for waiter in self._barriers.pop(context).waiters:
                waiter(True)

    # ---------------------------------------------------------------- peer messages

    def receive(self, src: int, message: PeerMessage) -> None:
        if isinstance(message, Message):
            self.raft.step(message)
        elif isinstance(message, Forward):
            if self.raft.role is Role.LEADER:
                self._accept(message)
            else:
                self._refuse(message.request)
        elif isinstance(message, Refuse):
            self._refused(message.request)
        elif isinstance(message, Touch) and self._tracker is not None:
            now = self._elapsed_ms()
            for session_id in message.session_ids:
                self._tracker.touch(session_id, now)
        self._schedule()

    # ---------------------------------------------------------------- time

    def tick(self) -> None:
        self.raft.tick()
        now = self._clock()
        if self._tracker is not None and self._preparer is not None:
            for session_id in self._tracker.expired(self._elapsed_ms()):
                _log.info("session 0x%x expired", session_id)
                self._propose(CloseSession(), session_id, None)
        elif self._touched and self.raft.leader != NO_NODE and self.raft.role is not Role.LEADER:
            self._peers.send(self.raft.leader, Touch(tuple(self._touched)))
            self._touched.clear()
        self._expire_requests(now)
        self._schedule()

    def _expire_requests(self, now: float) -> None:
        for number in [n for n, p in self._pending.items() if p.deadline <= now]:
            self._pending.pop(number).on_done(None)
        for context in [c for c, b in self._barriers.items() if b.deadline <= now]:
            for waiter in self._barriers.pop(context).waiters:
                waiter(False)

    def before_ready(self) -> None:
        """The driver's turn to process the core: propose the txns prepared since the last turn,
        start the read-index round the barriers asked for since then."""
        if self._batch:
            self._propose_batch()
        if self._next_barrier:
            self._issue_barrier()

    # ---------------------------------------------------------------- the driver's Application

    def on_soft_state(self, soft: SoftState) -> None:
        previous, self._soft = self._soft, soft
        if previous.role is Role.LEADER and soft.role is not Role.LEADER:
            self._stop_leading()
        if (previous.term, previous.leader) != (soft.term, soft.leader):
            _log.info("term %d: leader is %s (this is %d, %s)", soft.term, soft.leader or "unknown", self.id,
                      soft.role.value)
            self._fail_stale_requests()
        if soft.leader == NO_NODE:
            for holder in list(self.holders.values()):
                holder.drop("no leader")

    def _stop_leading(self) -> None:
        self._preparer = None
        self._tracker = None
        waiting, self._waiting_forwards = self._waiting_forwards, []
        for forward, _ in waiting:
            self._refuse(forward.request)
        batch, self._batch = self._batch, []
        for _, request_id in batch:
            if request_id is not None:
                self._refuse(request_id)

    def _fail_stale_requests(self) -> None:
        epoch = self._epoch()
        for number in [n for n, p in self._pending.items() if p.epoch != epoch]:
            self._pending.pop(number).on_done(None)
        for context in [c for c, b in self._barriers.items() if b.epoch != epoch and b.index < 0]:
            for waiter in self._barriers.pop(context).waiters:
                waiter(False)

    def send(self, message: Message) -> None:
        self._peers.send(message.dst, message)

    def restore(self, snapshot: Snapshot) -> None:
        _log.info("installing a snapshot at index %d from the leader", snapshot.index)
        self.replica = Replica.restore(snapshot.data)
        self.reader = Reader(self.replica, self.watches)
        self.applied_index = snapshot.index

    def apply(self, entries: tuple[Entry, ...]) -> None:
        for entry in entries:
            self.applied_index = entry.index
            for txn, request in decode_entry(entry.data):
                self._apply_txn(txn, request)
        self._release_barriers()
        self._maybe_start_leading()

    def _apply_txn(self, txn: Txn, request: RequestId | None) -> None:
        applied = self.replica.apply(txn)
        if self._preparer is not None:
            self._preparer.applied(applied.zxid)
        for watcher, change in self.watches.trigger(applied.changes):
            watcher.notify(change)  # type: ignore[attr-defined]
        body = txn.body
        if isinstance(body, CreateSessionTxn) and self._tracker is not None:
            self._tracker.track(body.session_id, body.timeout_ms, self._elapsed_ms())
        if request is not None and request.origin == self.id and request.incarnation == self.incarnation:
            pending = self._pending.pop(request.number, None)
            if pending is not None:
                pending.on_done(applied)
        if isinstance(body, CloseSessionTxn):
            if self._tracker is not None:
                self._tracker.forget(body.session_id)
            holder = self.holders.pop(body.session_id, None)
            if holder is not None:
                holder.session_closed()

    def _maybe_start_leading(self) -> None:
        """A new leader prepares only once it applied its whole log, its own first entry included."""
        if self._soft.role is not Role.LEADER or self._preparer is not None:
            return
        if self.applied_index < self.raft.log.last_index:
            return
        self._preparer = Preparer(self.replica)
        self._tracker = SessionTracker.resume(self.replica.sessions, self.config.tick_ms, self._elapsed_ms())
        self._touched.clear()
        _log.info("leading term %d from zxid 0x%x with %d sessions", self.raft.term, self.last_zxid,
                  len(self.replica.sessions))
        waiting, self._waiting_forwards = self._waiting_forwards, []
        for forward, request in waiting:
            self._accept(forward, request)

    def on_read_states(self, read_states: tuple[ReadState, ...]) -> None:
        for read in read_states:
            barrier = self._barriers.get(read.context)
            if barrier is not None:
                barrier.index = read.index
        self._release_barriers()

    def snapshot(self) -> tuple[int, bytes]:
        return self.applied_index, self.replica.snapshot()
