"""TCP between keeper servers on the peer port: one outgoing link per peer, reconnecting with backoff.

Each server dials every other server and sends only on the connection it
dialled; it only reads from connections it accepted (the first frame names the
caller). Sending never waits: a message for a peer that is down, or whose link
is backed up, is dropped, which Raft tolerates (it retries by itself), so a dead
peer never slows the others.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Coroutine
from typing import Any

from cluster.keeper.config import Peer
from cluster.keeper.server.peer_messages import MAX_FRAME, Hello, PeerMessage, PeerMessageError, decode, encode

INITIAL_BACKOFF_S = 0.05
MAX_BACKOFF_S = 1.0
MAX_BACKLOG = 64 * 1024 * 1024
"""Bytes queued for one peer before new messages to it are dropped."""

_LENGTH = struct.Struct(">I")
_log = logging.getLogger(__name__)


class _Link:
    """Frames for one peer are gathered during a loop iteration and leave in one write: a burst
    of Raft messages costs one system call, not one each."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.writer: asyncio.StreamWriter | None = None
        self._out: list[bytes] = []

    def send(self, frame: bytes) -> None:
        writer = self.writer
        if writer is None or writer.is_closing() or writer.transport.get_write_buffer_size() > MAX_BACKLOG:
            return
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(frame)

    def _flush(self) -> None:
        out, self._out = self._out, []
        writer = self.writer
        if writer is not None and not writer.is_closing():
            writer.write(b"".join(out))


class PeerNetwork:
    def __init__(self, me: Peer, peers: tuple[Peer, ...], deliver: Callable[[int, PeerMessage], None]) -> None:
        self._me = me
        self._links = {peer.id: _Link(peer) for peer in peers if peer.id != me.id}
        self._deliver = deliver
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inbound: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}

    async def start(self) -> None:
        if not self._links:
            return
        self._server = await asyncio.start_server(self._accept, self._me.host, self._me.peer_port, reuse_address=True)
        for link in self._links.values():
            self._spawn(self._dial(link), f"dial-{link.peer.id}")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def send(self, peer_id: int, message: PeerMessage) -> None:
        link = self._links.get(peer_id)
        if link is not None:
            link.send(encode(message))

    @property
    def connected(self) -> int:
        """Peers this server can currently send to."""
        return sum(link.writer is not None and not link.writer.is_closing() for link in self._links.values())

    async def _dial(self, link: _Link) -> None:
        backoff = INITIAL_BACKOFF_S
        peer = link.peer
        while True:
            try:
                reader, writer = await asyncio.open_connection(peer.host, peer.peer_port)
            except OSError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            _log.info("connected to peer %d at %s:%d", peer.id, peer.host, peer.peer_port)
            backoff = INITIAL_BACKOFF_S
            writer.write(encode(Hello(self._me.id)))
            link.writer = writer
            try:
                await reader.read()  # the peer never sends here: this returns when the link closes
            except OSError:
                pass
            finally:
                link.writer = None
                writer.close()
            _log.info("lost the link to peer %d", peer.id)
            await asyncio.sleep(backoff)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inbound[writer] = task
        src = 0
        try:
            first = decode(await _read_frame(reader))
            if not isinstance(first, Hello) or first.server_id not in self._links:
                raise PeerMessageError(f"expected a hello from a configured peer, got {first!r}")
            src = first.server_id
            while True:
                self._deliver(src, decode(await _read_frame(reader)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except PeerMessageError as error:
            _log.warning("dropping a peer connection (from %s): %s", src or "unknown", error)
        except Exception:
            _log.exception("dropping the connection from peer %s after an internal error", src or "unknown")
        finally:
            self._inbound.pop(writer, None)
            writer.close()

    async def close(self) -> None:
        """Accepted connections are closed, not cancelled: asyncio's stream server reports a
        cancelled handler as an error."""
        if self._server is not None:
            self._server.close()
        handlers = list(self._inbound.values())
        for writer in list(self._inbound):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *handlers, return_exceptions=True)
        for link in self._links.values():
            if link.writer is not None:
                link.writer.close()
        if self._server is not None:
            await self._server.wait_closed()


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > MAX_FRAME:
        raise PeerMessageError(f"a {length}-byte frame exceeds the {MAX_FRAME}-byte limit")
    return await reader.readexactly(length)
