"""A leader's work in one term: each follower's progress and the appends it is sent, the commit
rule, read-index rounds, and a leadership transfer in progress.

A node holds a Leadership only while it leads; stepping down drops it, and with it every
follower's progress, every read round and the transfer: a new term starts from nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from cluster.keeper.raft.config import Config
from cluster.keeper.raft.log import RaftLog
from cluster.keeper.raft.messages import Message, MessageType
from cluster.keeper.raft.progress import Progress, ProgressState
from cluster.keeper.raft.read_index import ReadIndexQueue
from cluster.keeper.raft.ready import ReadState
from cluster.keeper.raft.state import NO_NODE

Send = Callable[..., None]
"""`send(kind, to, **fields)`: queue a message of the node's current term to a peer."""


class Leadership:
    def __init__(
        self, config: Config, log: RaftLog, term: int, send: Send, read_ready: Callable[[ReadState], None]
    ) -> None:
        self.id = config.id
        self.log = log
        self.term = term
        self._others = config.others
        self._quorum = config.quorum
        self._max_append_entries = config.max_append_entries
        self._send = send
        self._read_ready = read_ready
        last = log.last_index
        self._progress = {peer: Progress(next=last + 1) for peer in config.peers}
        own = self._progress[self.id]
        own.state = ProgressState.REPLICATE
        own.match = log.stable
        self.transferee = NO_NODE
        """The peer leadership is being handed to, or NO_NODE."""
        self._reads = ReadIndexQueue()
        self._reads_awaiting_commit: list[tuple[bytes, int]] = []

    def step(self, m: Message) -> None:
        if m.type is MessageType.APPEND_RESP:
            self._handle_append_response(m)
        elif m.type is MessageType.HEARTBEAT_RESP:
            self._handle_heartbeat_response(m)
        elif m.type is MessageType.READ_INDEX:
            self.read_index(m.context, m.src)

    def persisted(self, stable: int) -> None:
        """The leader's own log is durable up to `stable`: its copy now counts towards a commit."""
        if self._progress[self.id].maybe_update(stable):
            self._commit_and_broadcast()

    def heartbeat(self) -> None:
        self._broadcast_heartbeat(self._reads.last_context())

    def quorum_recently_active(self) -> bool:
        """Whether a quorum answered since the last call (check-quorum): a leader cut off steps down."""
        active = 1
        for peer in self._others:
            progress = self._progress[peer]
            active += progress.recent_active
            progress.recent_active = False
        return active >= self._quorum

    def transfer_to(self, target: int) -> bool:
        """Starts handing leadership to `target`: TimeoutNow once its log is complete. False when
        there is nothing to start (it is this node, or the transfer already under way)."""
        if target not in self._progress:
            raise ValueError(f"{target} is not a peer")
        if target in (self.id, self.transferee):
            return False
        self.transferee = target
        if self._progress[target].match == self.log.last_index:
            self._send(MessageType.TIMEOUT_NOW, target)
        else:
            self._send_append(target)
        return True

    # ---------------------------------------------------------------- replication

    def broadcast_append(self, send_if_empty: bool) -> None:
        for peer in self._others:
            self._send_append(peer, send_if_empty)

    def _handle_append_response(self, m: Message) -> None:
        progress = self._progress[m.src]
        progress.recent_active = True
        if m.reject:
            match_hint = m.reject_hint
            if m.log_term > 0:
                match_hint, _ = self.log.find_conflict_by_term(m.reject_hint, m.log_term)
            if progress.maybe_decrease_to(m.index, match_hint):
                if progress.state is ProgressState.REPLICATE:
                    progress.become_probe()
                self._send_append(m.src)
            return
        was_paused = progress.paused
        if not progress.maybe_update(m.index):
            return
        if progress.state is not ProgressState.REPLICATE:
            progress.become_replicate()
        if not self._commit_and_broadcast() and (was_paused or progress.next <= self.log.last_index):
            self._send_append(m.src)  # also tells a follower that was paused about the commit
        if m.src == self.transferee and progress.match == self.log.last_index:
            self._send(MessageType.TIMEOUT_NOW, m.src)

    def _send_append(self, peer: int, send_if_empty: bool = True) -> None:
        progress = self._progress[peer]
        if progress.paused:
            return
        prev_index = progress.next - 1
        prev_term = self.log.term(prev_index)
        if prev_term is None:
            self._send(MessageType.SNAPSHOT, peer, snapshot=self.log.snapshot)
            progress.become_snapshot()
            return
        last = min(self.log.last_index, prev_index + self._max_append_entries)
        entries = self.log.slice(progress.next, last + 1)
        if not entries and not send_if_empty:
            return
        self._send(
            MessageType.APPEND, peer, index=prev_index, log_term=prev_term, entries=entries, commit=self.log.committed
        )
        progress.sent_entries(last)

    # ---------------------------------------------------------------- commit

    def _committable_index(self) -> int:
        """The highest index a quorum has durably stored."""
        matches = sorted((p.match for p in self._progress.values()), reverse=True)
        return matches[self._quorum - 1]

    def _maybe_commit(self) -> bool:
        index = self._committable_index()
        if index <= self.log.committed or self.log.term(index) != self.term:
            return False  # never count replicas for an older term's entry (Figure 8)
        self.log.commit_to(index)
        return True

    def _commit_and_broadcast(self) -> bool:
        if not self._maybe_commit():
            return False
        self.broadcast_append(send_if_empty=True)
        waiting, self._reads_awaiting_commit = self._reads_awaiting_commit, []
        for context, requester in waiting:
            self.read_index(context, requester)
        return True

    # ---------------------------------------------------------------- heartbeats and read index

    def read_index(self, context: bytes, requester: int) -> None:
        if self.log.term(self.log.committed) != self.term:
            # Until an entry of this term commits, our commit index may lag the real one.
            self._reads_awaiting_commit.append((context, requester))
            return
        if self._quorum == 1:
            self._complete_read(context, self.log.committed, requester)
            return
        self._reads.add(context, self.log.committed, requester, self.id)
        self._broadcast_heartbeat(context)

    def _handle_heartbeat_response(self, m: Message) -> None:
        progress = self._progress[m.src]
        progress.recent_active = True
        if progress.state is ProgressState.SNAPSHOT:
            progress.become_probe()  # the snapshot may have been lost: offer it again
        progress.probe_sent = False
        if progress.match < self.log.last_index:
            self._send_append(m.src)
        if m.context and self._reads.ack(m.context, m.src) >= self._quorum:
            for read in self._reads.release_through(m.context):
                self._complete_read(read.context, read.index, read.requester)

    def _complete_read(self, context: bytes, index: int, requester: int) -> None:
        if requester == self.id:
            self._read_ready(ReadState(index, context))
        else:
            self._send(MessageType.READ_INDEX_RESP, requester, index=index, context=context)

    def _broadcast_heartbeat(self, context: bytes) -> None:
        for peer in self._others:
            commit = min(self._progress[peer].match, self.log.committed)
            self._send(MessageType.HEARTBEAT, peer, commit=commit, context=context)
