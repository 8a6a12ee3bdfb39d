"""One ZooKeeper client's TCP connection: the handshake, its requests in order, its watch events.

Answers leave in request order. A read is run when every request before it on
the connection has been answered, so it sees the session's own earlier writes
(ZooKeeper's FIFO client order); writes are handed to the node at once, so a
client's pipelined writes commit together. A sync, and with linearizableReads
every read, also waits for a read-index barrier taken when it arrived.

Malformed bytes cost the sender its connection, nothing else; an op keeper does
not implement is answered UNIMPLEMENTED. The first four bytes of a connection
may be one of ZooKeeper's four-letter words instead of a frame length.

It is a sans-IO state machine, as h11 is for HTTP: bytes in (`receive_data`),
bytes out (`data_to_send`), and two more things for whoever holds the socket to
do, `reading_paused` and `closed`. What happens between reads (a write applied,
a barrier passed, a watch fired, the session closed) reaches it from the node,
and it calls `wake` so its holder looks again. No socket or event loop is
touched here, and the clock is given: client_protocol.py is the asyncio side, and
tests drive it by hand.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.jute import (
    FrameDecoder,
    JuteError,
    KeeperState,
    OpCode,
    UnsupportedOperation,
    Xid,
    decode_connect_request,
    decode_request,
    encode_connect_response,
    encode_notification,
    encode_reply,
)
from cluster.keeper.jute.records import ConnectRequest, ConnectResponse, RequestHeader, SyncResponse, WatcherEvent
from cluster.keeper.replica import Applied
from cluster.keeper.server.four_letter import FOUR_LETTER_WORDS
from cluster.keeper.server.node import KeeperNode
from cluster.keeper.server.passwords import PASSWORD_BYTES, password_matches, session_password
from cluster.keeper.server.stats import ServerStats
from cluster.keeper.server.translate import READ_OPS, WRITE_OPS, read_reply, session_of, write_reply, write_request
from cluster.keeper.tree import Change

MAX_QUEUED = 1000
"""Requests a connection may have unanswered before the server stops reading from it."""

_log = logging.getLogger(__name__)


class _Slot:
    """One request's place in the answer order."""

    __slots__ = ("frame", "compute", "blocked", "close_after", "received")

    def __init__(self, received: float, compute: Callable[[], bytes] | None = None, blocked: bool = False) -> None:
        self.frame: bytes | None = None
        self.compute = compute
        self.blocked = blocked
        self.close_after = False
        self.received = received


class ClientConnection:
    def __init__(
        self, node: KeeperNode, stats: ServerStats, four_letter_answer: Callable[[bytes], str], peer: str,
        wake: Callable[[], None], clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`wake` is called whenever there is something for the socket's holder to do: bytes
        to send, reading to pause or resume, or the socket to close."""
        self._node = node
        self._stats = stats
        self._four_letter_answer = four_letter_answer
        self.peer = peer
        self._wake = wake
        self._clock = clock
        self.session_id = 0
        self._prefix = b""
        self._framed = False
        self._handshake_done = False
        self._connected = False
        self.closed = False
        """Nothing more will be read or answered: send what `data_to_send` still holds, then close."""
        self.reading_paused = False
        """Too many requests are unanswered: stop reading until this is False again."""
        self._early: list[bytes] = []
        self._decoder = FrameDecoder()
        self._queue: deque[_Slot] = deque()
        self._out: list[bytes] = []
        self._read_only: bool | None = None
        self.received = 0
        self.sent = 0

    # ---------------------------------------------------------------- the socket's side

    def data_to_send(self) -> bytes:
        """Every answer and event produced since the last call, in order."""
        out, self._out = self._out, []
        return b"".join(out)

    def connection_lost(self) -> None:
        """The socket is gone: forget the session's hold and watches here."""
        self._cleanup()

    def receive_data(self, data: bytes) -> None:
        if self.closed:
            return
        if not self._framed:
            self._prefix += data
            if len(self._prefix) < 4:
                return
            if self._prefix[:4] in FOUR_LETTER_WORDS:
                self._answer_four_letter_word(self._prefix[:4])
                return
            data, self._prefix, self._framed = self._prefix, b"", True
        try:
            frames = self._decoder.feed(data)
        except JuteError as error:
            self.drop(f"bad framing: {error}")
            return
        for payload in frames:
            if self.closed:
                return
            self._handle(payload)
        try:
            self._decoder.check()
        except JuteError as error:
            self.drop(f"bad framing after {len(frames)} frame(s): {error}")

    # ---------------------------------------------------------------- what the node calls

    def notify(self, change: Change) -> None:
        if not self.closed:
            event = WatcherEvent(int(change.type), KeeperState.SYNC_CONNECTED, change.path)
            self._write(encode_notification(event))

    def session_closed(self) -> None:
        """The session's closeSession applied: a client's own close was answered already."""
        self.drop("session closed")

    def drop(self, reason: str) -> None:
        """Closes the connection; what was answered before the drop still goes out."""
        if self.closed:
            return
        _log.info("closing connection from %s (session 0x%x): %s", self.peer, self.session_id, reason)
        self._cleanup()
        self._wake()

    def _cleanup(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        if self._node.holders.get(self.session_id) is self:
            del self._node.holders[self.session_id]
        self._node.watches.forget(self)

    # ---------------------------------------------------------------- handshake

    def _answer_four_letter_word(self, word: bytes) -> None:
        """The answer is text, not a frame, and not counted as a packet; then the connection closes."""
        self._out.append(self._four_letter_answer(word).encode())
        self.closed = True
        self._wake()

    def _handle(self, payload: bytes) -> None:
        self.received += 1
        self._stats.packets_received += 1
        if self._connected:
            self._handle_request(payload)
        elif self._handshake_done:
            self._early.append(payload)  # sent before the session is ready: served once it is
            if len(self._early) > MAX_QUEUED:
                self.drop("too many requests before the session was established")
        else:
            self._handshake_done = True
            self._handle_connect(payload)

    def _handle_connect(self, payload: bytes) -> None:
        try:
            request = decode_connect_request(payload)
        except JuteError as error:
            self.drop(f"malformed connect request: {error}")
            return
        node = self._node
        if not node.serving:
            self.drop("no leader: not serving clients")
            return
        if request.last_zxid_seen > node.last_zxid:
            self.drop(f"client has seen zxid 0x{request.last_zxid_seen:x}, this server only 0x{node.last_zxid:x}")
            return
        self._read_only = None if request.read_only is None else False
        if request.session_id:
            self._resume(request)
        else:
            timeout = node.config.negotiate_timeout(request.time_out)
            node.create_session(timeout, self._session_created)

    def _resume(self, request: ConnectRequest) -> None:
        """A session this server does not know may be one it has not applied yet: only after a
        read-index barrier is "unknown" the truth."""
        if not password_matches(request.session_id, request.passwd):
            self._expired(request.session_id)
            return
        if request.session_id in self._node.replica.sessions:
            self._start_session(request.session_id, self._node.replica.sessions[request.session_id])
            return
        self._node.barrier(lambda ok: self._resume_after_barrier(request.session_id, ok))

    def _resume_after_barrier(self, session_id: int, ok: bool) -> None:
        if self.closed:
            return
        if not ok:
            self.drop("no leader confirmed the session")
        elif session_id in self._node.replica.sessions:
            self._start_session(session_id, self._node.replica.sessions[session_id])
        else:
            self._expired(session_id)

    def _expired(self, session_id: int) -> None:
        """ZooKeeper's answer to an expired or unknown session: a zero timeout and id, then close."""
        self._write(encode_connect_response(ConnectResponse(0, 0, 0, bytes(PASSWORD_BYTES), self._read_only)))
        self.drop(f"session 0x{session_id:x} expired or unknown")

    def _session_created(self, applied: Applied | None) -> None:
        if self.closed:
            return
        if applied is None:
            self.drop("session creation did not commit")
            return
        created = session_of(applied)
        self._start_session(created.session_id, created.timeout_ms)

    def _start_session(self, session_id: int, timeout_ms: int) -> None:
        node = self._node
        previous = node.holders.get(session_id)
        if previous is not None and previous is not self:
            previous.drop("the session reconnected on another connection")
        self.session_id = session_id
        node.holders[session_id] = self
        node.touch(session_id)
        response = ConnectResponse(0, timeout_ms, session_id, session_password(session_id), self._read_only)
        self._write(encode_connect_response(response))
        self._connected = True
        early, self._early = self._early, []
        for payload in early:
            if self.closed:
                return
            self._handle_request(payload)

    # ---------------------------------------------------------------- requests

    def _handle_request(self, payload: bytes) -> None:
        try:
            header, record = decode_request(payload)
        except UnsupportedOperation as error:
            self._enqueue_frame(encode_reply(error.xid, self._node.last_zxid, ErrorCode.UNIMPLEMENTED))
            return
        except JuteError as error:
            self.drop(f"malformed request: {error}")
            return
        self._node.touch(self.session_id)
        op = header.type
        if op in READ_OPS:
            self._enqueue(lambda: read_reply(header.xid, op, record, self._node.reader, self),
                          barrier=self._node.config.linearizable_reads)
        elif op in WRITE_OPS:
            self._write_request(header, record, payload)
        elif op == OpCode.PING:
            self._enqueue(lambda: encode_reply(Xid.PING, self._node.last_zxid, 0))
        elif op == OpCode.SYNC:
            path = record.path
            self._enqueue(lambda: encode_reply(header.xid, self._node.last_zxid, 0, SyncResponse(path)), barrier=True)
        elif op in (OpCode.SET_WATCHES, OpCode.SET_WATCHES2):
            self._enqueue(lambda: self._set_watches(header, record))
        else:
            self._enqueue_frame(encode_reply(header.xid, self._node.last_zxid, ErrorCode.UNIMPLEMENTED))

    def _write_request(self, header: RequestHeader, record: Any, payload: bytes) -> None:
        try:
            request = write_request(header.type, record)
        except KeeperError as error:
            self._enqueue_frame(encode_reply(header.xid, self._node.last_zxid, error.code))
            return
        slot = _Slot(self._clock())
        slot.close_after = header.type == OpCode.CLOSE_SESSION
        self._append(slot)

        def done(applied: Applied | None) -> None:
            if self.closed:
                return
            if applied is None:
                self.drop("the write's outcome is unknown (leader lost or request timed out)")
                return
            slot.frame = write_reply(header.xid, header.type, record, applied)
            self._flush()

        self._node.submit(self.session_id, payload, request, done)

    def _set_watches(self, header: RequestHeader, record: Any) -> bytes:
        if getattr(record, "persistent_watches", None) or getattr(record, "persistent_recursive_watches", None):
            return encode_reply(header.xid, self._node.last_zxid, ErrorCode.UNIMPLEMENTED)
        node = self._node
        fired = node.watches.reregister(
            node.replica.tree, record.relative_zxid, self,
            record.data_watches or (), record.exist_watches or (), record.child_watches or (),
        )
        for _, change in fired:
            self.notify(change)
        return encode_reply(header.xid, node.last_zxid, 0)

    # ---------------------------------------------------------------- answer order

    def _enqueue_frame(self, frame: bytes) -> None:
        slot = _Slot(self._clock())
        slot.frame = frame
        self._append(slot)

    def _enqueue(self, compute: Callable[[], bytes], barrier: bool = False) -> None:
        if not barrier and not self._queue:
            self._write(compute())  # nothing ahead of it: answer now
            self._stats.answered(0.0)
            return
        slot = _Slot(self._clock(), compute, blocked=barrier)
        self._append(slot)
        if barrier:
            self._node.barrier(lambda ok: self._barrier_done(slot, ok))

    def _barrier_done(self, slot: _Slot, ok: bool) -> None:
        if self.closed:
            return
        if not ok:
            self.drop("no leader confirmed the read point")
            return
        slot.blocked = False
        self._flush()

    def _append(self, slot: _Slot) -> None:
        self._queue.append(slot)
        self._flush()
        if len(self._queue) >= MAX_QUEUED and not self.reading_paused:
            self.reading_paused = True
            self._wake()

    def _flush(self) -> None:
        queue = self._queue
        while queue and not self.closed:
            slot = queue[0]
            if slot.frame is None:
                if slot.compute is None or slot.blocked:
                    break
                slot.frame = slot.compute()
            queue.popleft()
            self._write(slot.frame)
            self._stats.answered((self._clock() - slot.received) * 1000)
            if slot.close_after:
                self.drop("the client closed its session")
                return
        if len(queue) < MAX_QUEUED // 2 and self.reading_paused and not self.closed:
            self.reading_paused = False
            self._wake()

    def _write(self, frame: bytes) -> None:
        first = not self._out
        self._out.append(frame)
        self.sent += 1
        self._stats.packets_sent += 1
        if first:
            self._wake()

    @property
    def queued(self) -> int:
        return len(self._queue)

