"""One broker's connection to another, speaking the Kafka protocol as any client would.

A follower fetches from its leader over this: requests encoded and responses decoded with
the same codecs the server uses (cluster/broker/protocol), so a follower could fetch from a
Kafka broker and a Kafka follower from ours. One request at a time: the server answers a
connection's requests in order anyway, so callers that share a connection (the transaction
coordinator's markers to one leader) queue for it rather than read each other's answers.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from typing import Any

from cluster.broker.protocol.framing import frame
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RequestHeader
from cluster.broker.protocol.schema import Api

_SIZE = struct.Struct(">i")
CLIENT_ID = "logquake-replica-fetcher"


class PeerError(ConnectionError):
    """The peer could not be reached, hung up, timed out, or answered something unreadable."""


class PeerConnection:
    def __init__(self, host: str, port: int, max_response_bytes: int) -> None:
        self.host = host
        self.port = port
        self._max_response_bytes = max_response_bytes
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._correlations = itertools.count(1)
        self._one_at_a_time = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def call(self, api: Api, version: int, body: Any, timeout_s: float) -> Any:
        """Sends one request and returns the decoded response body; PeerError (connection closed) otherwise.

        The timeout runs from the caller's turn on the connection: one waiting behind another's call
        must not close the connection under it."""
        async with self._one_at_a_time:
            try:
                return await asyncio.wait_for(self._exchange(api, version, body), timeout_s)
            except PeerError:
                self.close()
                raise
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                self.close()
                raise PeerError(f"{api.name} to {self.host}:{self.port} failed: {error!r}") from error

    async def _exchange(self, api: Api, version: int, body: Any) -> Any:
        if not self.connected:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        correlation_id = next(self._correlations) & 0x7FFFFFFF
        header = REQUEST_HEADER_V1.encode(RequestHeader(
            request_api_key=api.key, request_api_version=version, correlation_id=correlation_id, client_id=CLIENT_ID,
        ))
        self._writer.writelines(frame([header, api.request_codecs[version].encode(body)]))
        await self._writer.drain()
        size = _SIZE.unpack(await self._reader.readexactly(_SIZE.size))[0]
        if not 4 <= size <= self._max_response_bytes:
            raise PeerError(f"{api.name} response of {size} bytes from {self.host}:{self.port} is out of bounds")
        payload = memoryview(await self._reader.readexactly(size))
        answered = _SIZE.unpack_from(payload)[0]
        if answered != correlation_id:
            raise PeerError(f"{self.host}:{self.port} answered correlation {answered}, expected {correlation_id}")
        return api.response_codecs[version].decode(payload, _SIZE.size)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
