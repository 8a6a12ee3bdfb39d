"""The broker's network face: Kafka framing over asyncio, responses in request order.

Clients pipeline requests (librdkafka keeps up to five in flight), and some
answers wait (a long-poll fetch, a rebalance), so each connection queues its
pending answers in arrival order and one writer sends them in that order.
Record data goes out with sendfile straight from segment files. A client that
sends garbage loses its own connection and nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from functools import partial
from typing import Any

from cluster.broker.broker import Broker
from cluster.broker.handlers import CLOSE_CONNECTION, HANDLERS, NO_RESPONSE, Client
from cluster.broker.pinned_region import PinnedRegion
from cluster.broker.protocol.apis import ApiKey
from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.framing import FrameDecoder
from cluster.broker.protocol.messages import Request, UnsupportedVersionError, api_for, encode_response, read_request_header
from cluster.broker.protocol.negotiation import unsupported_version_response

READ_SIZE = 256 * 1024
CLOSE_GRACE_SECONDS = 30
PIPELINE_DEPTH = 64
"""Answers a connection may have pending before the broker stops reading from it (backpressure)."""

_log = logging.getLogger(__name__)
_CLOSE = object()


class BrokerServer:
    """One socket per listener in `listeners`; each connection remembers which one it came in on."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._servers: dict[str, asyncio.Server] = {}
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Binds every listener; OSError naming the listener that could not be bound."""
        for endpoint in self.broker.config.listeners.bound:
            try:
                self._servers[endpoint.listener] = await asyncio.start_server(
                    partial(self._accept, endpoint.listener), endpoint.host or None, endpoint.port, reuse_address=True,
                )
            except OSError as error:
                raise OSError(error.errno, f"cannot serve on {endpoint}: {error.strerror or error}") from None
        _log.info("broker %d listening on %s", self.broker.config.broker_id,
                  ", ".join(f"{name} {host}:{port}" for name, (host, port) in self.addresses.items()))

    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        """Each listener's bound address (its port, when the configured one is 0)."""
        return {name: server.sockets[0].getsockname()[:2] for name, server in self._servers.items()}

    @property
    def address(self) -> tuple[str, int]:
        """The first listener's address: a single-listener broker's only one."""
        return next(iter(self.addresses.values()))

    async def close(self) -> None:
        for server in self._servers.values():
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers.values():
            await server.wait_closed()

    async def _accept(self, listener: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await Connection(self.broker, listener, reader, writer).serve()
        except asyncio.CancelledError:
            pass  # close() ends connections; a task ending cancelled makes asyncio's stream callback log an error
        finally:
            self._connections.discard(task)


class Connection:
    def __init__(self, broker: Broker, listener: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.broker = broker
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.client = Client(peer[0] if peer else "unknown", listener)
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "unknown"
        self._frames = FrameDecoder(broker.config.socket_request_max_bytes)
        self._pending: asyncio.Queue[Any] = asyncio.Queue(PIPELINE_DEPTH)

    async def serve(self) -> None:
        receiver = asyncio.create_task(self._receive(), name=f"receive-{self.peer}")
        sender = asyncio.create_task(self._send_in_order(), name=f"send-{self.peer}")
        try:
            await asyncio.wait([receiver, sender], return_when=asyncio.FIRST_COMPLETED)
            if receiver.done() and not sender.done():
                # The client stopped sending or must be closed: answer what it already asked, then close.
                await self._pending.put(_CLOSE)
                await asyncio.wait([sender], timeout=CLOSE_GRACE_SECONDS)
            for task in (receiver, sender):
                if task.done() and not task.cancelled() and task.exception() is not None:
                    self._log_failure(task.exception())
        finally:
            for task in (receiver, sender):
                task.cancel()
            await asyncio.gather(receiver, sender, return_exceptions=True)
            self._discard_pending()
            self.writer.close()

    def _log_failure(self, error: BaseException) -> None:
        if isinstance(error, ProtocolError):
            _log.warning("closing connection from %s: %s", self.peer, error)
        elif not isinstance(error, (ConnectionError, asyncio.IncompleteReadError)):
            _log.error("closing connection from %s after an internal error", self.peer, exc_info=error)

    async def _receive(self) -> None:
        while data := await self.reader.read(READ_SIZE):
            for payload in self._frames.feed(data):
                if not await self._dispatch(payload):
                    return
            self._frames.check()

    async def _dispatch(self, payload: bytearray) -> bool:
        """Handles one request; False when the connection must close after what is already queued."""
        header, body_start = read_request_header(payload)
        try:
            api = api_for(header)
        except UnsupportedVersionError as error:
            refusal = unsupported_version_response(header)
            if refusal is None:
                _log.info("closing connection from %s: %s", self.peer, error)
                return False
            await self._pending.put(refusal)
            return True
        body = api.request_codecs[header.request_api_version].decode(memoryview(payload), body_start)
        request = Request(header, api, body)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %s v%d correlation %d", self.peer, api.name, request.version, request.correlation_id)
        outcome = HANDLERS[ApiKey(api.key)](self.broker, request, self.client)
        if outcome is NO_RESPONSE:
            return True
        if outcome is CLOSE_CONNECTION:
            return False
        if inspect.isawaitable(outcome):
            await self._pending.put((header, asyncio.ensure_future(outcome)))
        else:
            await self._pending.put(encode_response(header, outcome))
        return True

    async def _send_in_order(self) -> None:
        while (item := await self._pending.get()) is not _CLOSE:
            parts = await self._parts_of(item)
            if parts is None:
                return
            await self._write(parts)

    async def _parts_of(self, item: Any) -> list[Any] | None:
        if isinstance(item, list):
            return item
        header, answer = item
        try:
            return encode_response(header, await answer)
        except Exception:
            _log.exception("request from %s failed inside the broker; closing its connection", self.peer)
            return None

    async def _write(self, parts: list[Any]) -> None:
        loop = asyncio.get_running_loop()
        try:
            for part in parts:
                if isinstance(part, PinnedRegion):
                    await self.writer.drain()
                    await loop.sendfile(self.writer.transport, part.file, part.position, part.length)
                else:
                    self.writer.write(part)
            await self.writer.drain()
        finally:
            _close_regions(parts)

    def _discard_pending(self) -> None:
        """Releases what answers that will never be sent hold: pinned files, pending waits."""
        while not self._pending.empty():
            item = self._pending.get_nowait()
            if isinstance(item, list):
                _close_regions(item)
            elif isinstance(item, tuple):
                item[1].cancel()


def _close_regions(parts: list[Any]) -> None:
    for part in parts:
        if isinstance(part, PinnedRegion):
            part.close()
