"""A running keeper server: storage, Raft driver, peer network and client listener, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from cluster.keeper.config import KeeperConfig
from cluster.keeper.server.client_protocol import ClientProtocol
from cluster.keeper.server.four_letter import ClientView, ServerView, answer
from cluster.keeper.server.node import ELECTION_TICKS, KeeperNode
from cluster.keeper.server.peer_messages import PeerMessage
from cluster.keeper.server.peers import PeerNetwork
from cluster.keeper.server.raft_driver import RaftDriver
from cluster.keeper.server.stats import ServerStats
from cluster.keeper.server.storage import RaftStorage

_log = logging.getLogger(__name__)


class Connection(Protocol):
    """A client connection as the service sees it: listed by four-letter words, dropped at stop."""

    peer: str
    received: int
    sent: int

    @property
    def queued(self) -> int: ...
    def drop(self, reason: str) -> None: ...


class KeeperService:
    def __init__(self, config: KeeperConfig) -> None:
        self.config = config
        self.stats = ServerStats()
        self.connections: set[Connection] = set()
        self._storage = RaftStorage(config.log_dir, config.data_dir, sync=config.force_sync)
        self._peers = PeerNetwork(config.me, config.peers, self._deliver)
        self.node = KeeperNode(config, self._storage.load(), self._peers)
        self._driver = RaftDriver(self.node.raft, self._storage, self.node, config.snap_count, self._fatal)
        self.node.attach(self._driver.schedule)
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self.failed = asyncio.Event()

    async def start(self) -> None:
        await self._peers.start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ClientProtocol(self), self.config.client_host, self.config.client_port, reuse_address=True
        )
        self._tick()
        self._driver.schedule()
        _log.info("keeper %d serving clients on %s:%d, peers %s, data in %s", self.config.my_id,
                  *self.client_address, [p.id for p in self.config.peers], self.config.data_dir)

    @property
    def client_address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    def _tick(self) -> None:
        self.node.tick()
        interval = self.config.election_timeout_ms / ELECTION_TICKS / 1000
        self._ticker = asyncio.get_running_loop().call_later(interval, self._tick)

    def _deliver(self, src: int, message: PeerMessage) -> None:
        self.node.receive(src, message)

    def _fatal(self, error: BaseException) -> None:
        _log.critical("fail-stop: %s; the server exits without acknowledging anything that depended on it",
                      error, exc_info=error)
        self.failed.set()

    def opened(self, connection: Connection) -> None:
        self.connections.add(connection)

    def closed(self, connection: Connection) -> None:
        self.connections.discard(connection)

    def four_letter_answer(self, word: bytes) -> str:
        return answer(word, self._view())

    def _view(self) -> ServerView:
        node = self.node
        tree = node.replica.tree
        clients = tuple(ClientView(c.peer, c.queued, c.received, c.sent) for c in self.connections)
        return ServerView(
            serving=node.serving, mode=node.mode, zxid=node.last_zxid, node_count=len(tree),
            watch_count=len(node.watches), ephemerals_count=tree.ephemeral_count(),
            data_size=tree.approximate_data_size(), outstanding=sum(c.queued for c in clients),
            clients=clients, stats=self.stats, followers=self._peers.connected,
        )

    async def stop(self) -> None:
        """Stops listening and closes connections; sessions stay (they live in the replicated state)."""
        if self._ticker is not None:
            self._ticker.cancel()
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.drop("server shutting down")
        await self._driver.stop()
        await self._peers.close()
        if self._server is not None:
            await self._server.wait_closed()
