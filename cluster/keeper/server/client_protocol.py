"""The asyncio side of a client connection: the socket's bytes go into a ClientConnection, and
what it asks for is done: send its answers, pause or resume reading, close.

Answers leave together at the end of the loop iteration that produced them (one system call
for a burst); a client that leaves more than MAX_WRITE_BUFFER bytes of answers unread is dropped.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from cluster.keeper.server.client_connection import ClientConnection
from cluster.keeper.server.node import KeeperNode
from cluster.keeper.server.stats import ServerStats

MAX_WRITE_BUFFER = 16 * 1024 * 1024
"""Bytes of answers a client may leave unread before it is dropped."""


class ClientHost(Protocol):
    """What a client connection needs of the server that accepted it."""

    node: KeeperNode
    stats: ServerStats

    def four_letter_answer(self, word: bytes) -> str: ...
    def opened(self, connection: ClientConnection) -> None: ...
    def closed(self, connection: ClientConnection) -> None: ...


class ClientProtocol(asyncio.Protocol):
    def __init__(self, host: ClientHost) -> None:
        self._host = host
        self._transport: asyncio.Transport | None = None
        self._connection: ClientConnection | None = None
        self._send_scheduled = False
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        host = self._host
        self._connection = ClientConnection(
            host.node, host.stats, host.four_letter_answer, f"{peer[0]}:{peer[1]}" if peer else "unknown", self._wake
        )
        host.opened(self._connection)

    def data_received(self, data: bytes) -> None:
        assert self._connection is not None
        self._connection.receive_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        assert self._connection is not None
        self._closing = True
        self._connection.connection_lost()
        self._host.closed(self._connection)

    def _wake(self) -> None:
        connection, transport = self._connection, self._transport
        assert connection is not None and transport is not None
        if connection.closed:
            self._close(connection, transport)
            return
        if connection.reading_paused:
            transport.pause_reading()
        else:
            transport.resume_reading()
        if not self._send_scheduled:
            self._send_scheduled = True
            asyncio.get_running_loop().call_soon(self._send_out)

    def _send_out(self) -> None:
        self._send_scheduled = False
        connection, transport = self._connection, self._transport
        assert connection is not None and transport is not None
        data = connection.data_to_send()
        if transport.is_closing() or not data:
            return
        transport.write(data)
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            connection.drop("the client does not read its answers")

    def _close(self, connection: ClientConnection, transport: asyncio.Transport) -> None:
        """What was answered before the close still goes out."""
        if self._closing:
            return
        self._closing = True
        self._host.closed(connection)
        self._send_out()
        transport.close()
