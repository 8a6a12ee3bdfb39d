"""The asyncio Ready loop around the sans-IO Raft core: persist, then send, then apply, then advance.

One Ready is in flight at a time; its fsync runs on a worker thread while the
event loop keeps stepping the core with messages, ticks and proposals, so the
next Ready gathers everything that arrived meanwhile (group commit: one fsync
for many entries). One departure from the Ready contract, which etcd makes too:
a leader sends its appends before its own write completes (see
`_send_replication_early`). Processing is scheduled once per loop iteration rather than
after every event, for the same reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from cluster.keeper.raft import Entry, Message, MessageType, Raft, Ready, ReadState, Role, Snapshot, SoftState
from cluster.keeper.server.storage import RaftStorage

_log = logging.getLogger(__name__)
_REPLICATION = frozenset({MessageType.APPEND, MessageType.HEARTBEAT, MessageType.SNAPSHOT})


class Application(Protocol):
    """What the driver calls: `before_ready` on every turn (also while a write is in progress:
    the core takes proposals meanwhile), the rest in Ready order once the Ready's writes are durable."""

    def before_ready(self) -> None: ...
    def on_soft_state(self, soft: SoftState) -> None: ...
    def send(self, message: Message) -> None: ...
    def restore(self, snapshot: Snapshot) -> None: ...
    def apply(self, entries: tuple[Entry, ...]) -> None: ...
    def on_read_states(self, read_states: tuple[ReadState, ...]) -> None: ...
    def snapshot(self) -> tuple[int, bytes]:
        """The last applied index and the state machine's bytes at that index."""
        ...


class RaftDriver:
    def __init__(
        self, raft: Raft, storage: RaftStorage, application: Application, snap_count: int,
        on_fatal: Callable[[BaseException], None],
    ) -> None:
        self.raft = raft
        self._storage = storage
        self._application = application
        self._snap_count = snap_count
        self._on_fatal = on_fatal
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raft-fsync")
        self._persisting = False
        self._scheduled = False
        self._stopped = False
        self.applied_index = raft.log.applied

    def schedule(self) -> None:
        """Process the core's pending work soon (once, however many events come first)."""
        if not self._scheduled and not self._stopped:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._process)

    def _process(self) -> None:
        self._scheduled = False
        if self._stopped:
            return
        self._application.before_ready()
        if self._persisting or not self.raft.has_ready():
            return
        ready = self.raft.ready()
        if ready.soft_state is not None:
            self._application.on_soft_state(ready.soft_state)
        if not self._storage.needs_fsync(ready):
            try:
                if ready.must_sync:
                    self._storage.persist(ready)  # a commit index: written now, synced by a later Ready
            except Exception as error:
                self._fail(error)
                return
            self._finish(ready)
            return
        self._persisting = True
        if self.raft.role is Role.LEADER and not self._storage.changes_term_or_vote(ready):
            ready = self._send_replication_early(ready)
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._storage.persist, ready)
        future.add_done_callback(lambda done: self._persisted(ready, done))

    def _persisted(self, ready: Ready, done: asyncio.Future[None]) -> None:
        self._persisting = False
        if done.cancelled() or done.exception() is not None:
            self._fail(done.exception() or RuntimeError("persisting the raft log was cancelled"))
            return
        if not self._stopped:
            self._finish(ready)

    def _send_replication_early(self, ready: Ready) -> Ready:
        """A leader's appends leave while its own write is in progress, so the leader's fsync and
        the followers' overlap (Raft thesis §10.2.1; etcd does the same). It is safe because the
        core counts the leader's own copy towards a commit only once advance() says it is durable,
        and the leader's term is already durable: it voted for itself before it could lead."""
        early = tuple(m for m in ready.messages if m.type in _REPLICATION)
        if not early:
            return ready
        for message in early:
            self._application.send(message)
        return replace(ready, messages=tuple(m for m in ready.messages if m.type not in _REPLICATION))

    def _fail(self, error: BaseException) -> None:
        """A disk that cannot write, or a state machine that cannot apply: this server must stop,
        not limp on with a core that waits forever for advance(). The failed Ready's messages are
        never sent and its entries never applied, so nothing it promised is acknowledged, and
        nothing later is processed: an fsync retried after a failure may claim data it lost."""
        self._stopped = True
        self._on_fatal(error)

    def _finish(self, ready: Ready) -> None:
        try:
            self._act_on(ready)
        except Exception as error:
            self._fail(error)
            return
        self.schedule()

    def _act_on(self, ready: Ready) -> None:
        application = self._application
        for message in ready.messages:
            application.send(message)
        if ready.snapshot is not None and ready.snapshot.index > self.applied_index:
            application.restore(ready.snapshot)
            self.applied_index = ready.snapshot.index
        if ready.committed_entries:
            application.apply(ready.committed_entries)
            self.applied_index = ready.committed_entries[-1].index
        if ready.read_states:
            application.on_read_states(ready.read_states)
        self.raft.advance()
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        if self.applied_index - self.raft.log.snapshot.index < self._snap_count:
            return
        index, data = self._application.snapshot()
        self.raft.compact(index, data)
        _log.info("snapshot at index %d (%d bytes); log compacted", index, len(data))

    async def stop(self) -> None:
        """Waits for an fsync in progress; nothing after it is processed."""
        self._stopped = True
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: None)
        self._executor.shutdown(wait=True)
        self._storage.close()
