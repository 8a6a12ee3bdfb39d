"""One Kafka request to one address with the broker's own peer client: no client library's retries or redirections."""

from __future__ import annotations

import asyncio
from typing import Any

from cluster.broker.peer_client import PeerConnection
from cluster.broker.protocol.schema import Api

TIMEOUT = 30


def call(address: str, api: Api, version: int, body: Any) -> Any:
    host, _, port = address.rpartition(":")

    async def exchange() -> Any:
        connection = PeerConnection(host, int(port), 1 << 24)
        try:
            return await connection.call(api, version, body, TIMEOUT)
        finally:
            connection.close()

    return asyncio.run(exchange())
