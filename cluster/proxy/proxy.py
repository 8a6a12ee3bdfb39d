"""One proxy: a listening socket whose connections are forwarded to an upstream through the toxics.

Disabling a proxy closes its listener and every connection through it (clients then see refused
connections), as Toxiproxy's `enabled: false` does; enabling it listens again on the same address.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from cluster.proxy.addresses import join_address, split_address
from cluster.proxy.errors import cannot_listen
from cluster.proxy.pipes import Connection
from cluster.proxy.toxic_set import ToxicSet

_log = logging.getLogger(__name__)


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.toxics = ToxicSet()
        self._rng = rng
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()

    @property
    def enabled(self) -> bool:
        return self._server is not None

    @property
    def connections(self) -> int:
        return len(self._connections)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "toxics": [toxic.to_json() for toxic in self.toxics]}

    async def start(self) -> None:
        """Listen (if not already); `listen` then names the bound port. ApiError (500) if it cannot."""
        if self._server is not None:
            return
        host, port = split_address(self.listen)
        try:
            self._server = await asyncio.start_server(self._accept, host or None, port)
        except OSError as error:
            raise cannot_listen(self.listen, error) from None
        bound = self._server.sockets[0].getsockname()
        self.listen = join_address(host or bound[0], bound[1])
        _log.info("proxy %s listening on %s for %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Stop listening and end every connection through the proxy."""
        if self._server is not None:
            self._server.close()
            self._server = None
            _log.info("proxy %s stopped", self.name)
        for connection in list(self._connections):
            connection.terminate(reset=False)

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        """Toxiproxy's update: a new address or upstream restarts the proxy (dropping its connections)."""
        if (listen, upstream) != (self.listen, self.upstream):
            self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled:
            await self.start()
        else:
            self.stop()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        host, port = split_address(self.upstream)
        try:
            upstream = await asyncio.open_connection(host, port)
        except OSError as error:
            _log.warning("proxy %s: cannot reach upstream %s: %s", self.name, self.upstream, error)
            client_writer.close()
            return
        if self._server is None:
            upstream[1].close()
            client_writer.close()
            return
        connection = Connection((client_reader, client_writer), upstream, self.toxics, self._rng,
                                self._connections.discard)
        self._connections.add(connection)
        connection.start()

