"""Free ports for servers on this machine, never handed to two processes at once.

A port the kernel picks (a bind to port 0) is free only until that socket closes: the kernel may
give it to the next process that asks, or use it as the source port of an outgoing connection,
before the server it was meant for listens. So ports come from blocks below Linux's ephemeral range
(32768-60999 by default, where the kernel picks its own), and a process hands out only ports of the
blocks it has claimed (claims.py), keeping each for as long as it lives: pytest-xdist workers and
separate runs never get the same port. A process hands its ports out in turn, skipping any that is
bound, and claims one more block when its own are used up; only when every block is claimed does it
come round to its first ports again, still skipping those bound.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import IO

from cluster.deploy.claims import CLAIMS_DIR, claim

HOST = "127.0.0.1"
FIRST_PORT = 16384
BLOCK_SIZE = 256
BLOCK_COUNT = 64
"""Blocks 16384-16639 up to 32512-32767: all below the ephemeral range."""
PORT_CLAIMS = CLAIMS_DIR / "logquake-port-blocks"


class NoFreePort(RuntimeError):
    """Every port this process could claim is bound, or other processes hold every block."""


class PortBlocks:
    """One process's claimed blocks of ports, and which of their ports it hands out next."""

    def __init__(self, claims: Path, first_port: int = FIRST_PORT, block_size: int = BLOCK_SIZE,
                 block_count: int = BLOCK_COUNT) -> None:
        self.claims = claims
        self.first_port = first_port
        self.block_size = block_size
        self.block_count = block_count
        self._lock = threading.Lock()
        self._held: dict[int, IO[bytes]] = {}
        """The claim file of each block this process holds, by the block's first port."""
        self._ports: list[int] = []
        self._next = 0

    def take(self, count: int) -> list[int]:
        """`count` distinct ports of this process's blocks that nothing is bound to on 127.0.0.1."""
        with self._lock:
            return [self._next_free() for _ in range(count)]

    def release(self) -> None:
        """Gives up every block this process holds."""
        for held in self._held.values():
            held.close()
        self._held, self._ports, self._next = {}, [], 0

    def forget_after_fork(self) -> None:
        """A forked child starts afresh: the blocks are its parent's, and so may be the lock's state."""
        self._lock = threading.Lock()
        self.release()

    def _next_free(self) -> int:
        came_round = False
        while True:
            if self._next == len(self._ports) and not self._claim_block():
                if not self._ports:
                    raise NoFreePort(f"other processes hold every block of ports in {self._span()} ({self.claims})")
                if came_round:
                    raise NoFreePort(f"every port this process could claim in {self._span()} is bound")
                self._next, came_round = 0, True
            port = self._ports[self._next]
            self._next += 1
            if port_is_free(HOST, port):
                return port

    def _claim_block(self) -> bool:
        for first in range(self.first_port, self._end(), self.block_size):
            held = None if first in self._held else claim(self.claims, str(first))
            if held is not None:
                self._held[first] = held
                self._ports += range(first, first + self.block_size)
                return True
        return False

    def _end(self) -> int:
        return self.first_port + self.block_count * self.block_size

    def _span(self) -> str:
        return f"{self.first_port}-{self._end() - 1}"


_BLOCKS = PortBlocks(PORT_CLAIMS)
os.register_at_fork(after_in_child=_BLOCKS.forget_after_fork)


def free_ports(count: int) -> list[int]:
    """Distinct ports on 127.0.0.1 that nothing is bound to and no other process is handed."""
    return _BLOCKS.take(count)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to and no other process is handed."""
    return _BLOCKS.take(1)[0]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now. Servers set SO_REUSEADDR (asyncio and Java do),
    so connections of an earlier server lingering in TIME_WAIT do not count."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False
