"""One proxied connection: the client's socket, the upstream's, and a pipe each way through the toxics.

Each direction has a pump (read a chunk, wait while a toxic holds the link, run it through the
link's chain) and a courier (carry the resulting events out in order, each at its time), joined by
a short queue so that a slow courier (latency, bandwidth) slows the pump and the sender feels it
as TCP backpressure rather than the proxy buffering without bound. A watcher ends the connection
at a toxic's deadline. A cut ends both sockets together, with RST when it is a reset.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections.abc import Callable

from cluster.proxy.chain import LinkChain
from cluster.proxy.toxic_set import ToxicSet
from cluster.proxy.toxics import Cut, Deliver, Event

_log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
QUEUED_EVENTS = 64
"""Events waiting for the courier before the pump stops reading."""

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Connection:
    """A client's connection through a proxy to the upstream. `on_end` is told once it is over."""

    def __init__(self, client: Stream, upstream: Stream, toxics: ToxicSet, rng: random.Random,
                 on_end: Callable[[Connection], None]) -> None:
        self._writers = (client[1], upstream[1])
        self._toxics = toxics
        self._on_end = on_end
        self._pipes = (_Pipe(self, toxics, "upstream", client[0], upstream[1], LinkChain(rng)),
                       _Pipe(self, toxics, "downstream", upstream[0], client[1], LinkChain(rng)))
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = False

    def start(self) -> None:
        for pipe in self._pipes:
            self._tasks += [asyncio.create_task(pipe.pump()), asyncio.create_task(pipe.courier())]
        self._tasks.append(asyncio.create_task(self._watch_deadlines()))

    def terminate(self, reset: bool) -> None:
        """End both sockets now: a FIN to each peer, or an RST (SO_LINGER 0) if `reset`."""
        if self._ended:
            return
        self._ended = True
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for writer in self._writers:
            if reset:
                _reset(writer)
            else:
                writer.close()
        self._on_end(self)

    def pipe_finished(self) -> None:
        """A direction passed its EOF on; once both have, the connection is over."""
        if all(pipe.finished for pipe in self._pipes):
            self.terminate(reset=False)

    async def _watch_deadlines(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            changed = self._toxics.changed()
            now = loop.time()
            for pipe in self._pipes:
                pipe.chain.sync(self._toxics.of_stream(pipe.stream), now)
            cuts = [cut for pipe in self._pipes if (cut := pipe.chain.deadline()) is not None]
            cut = min(cuts, key=lambda cut: cut.at, default=None)
            try:
                await asyncio.wait_for(changed, None if cut is None else max(0.0, cut.at - now))
            except TimeoutError:
                assert cut is not None
                self.terminate(cut.reset)
                return


class _Pipe:
    """One direction: bytes read from `reader` go through the chain of `stream`'s toxics to `writer`."""

    def __init__(self, connection: Connection, toxics: ToxicSet, stream: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, chain: LinkChain) -> None:
        self.stream = stream
        self.chain = chain
        self.finished = False
        self._connection = connection
        self._toxics = toxics
        self._reader = reader
        self._writer = writer
        self._queue: asyncio.Queue[Event] = asyncio.Queue(QUEUED_EVENTS)
        self._carrying = False

    async def pump(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await self._reader.read(READ_SIZE)
            except OSError:
                self._connection.terminate(reset=True)
                return
            await self._until_flowing()
            now = loop.time()
            events = self.chain.feed(data, now) if data else self.chain.finish(now)
            if self._carrying or not self._queue.empty() or any(event.at > now for event in events):
                for event in events:
                    await self._queue.put(event)
            elif not await self._carry_all(events):
                return
            if not data:
                return

    async def _carry_all(self, events: list[Event]) -> bool:
        """The pump's shortcut when nothing waits and nothing is delayed: handing the events to the
        courier would only cost time (a proxied round trip's overhead about halves)."""
        for event in events:
            if not await self._carry(event):
                return False
        return True

    async def _until_flowing(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            changed = self._toxics.changed()
            self.chain.sync(self._toxics.of_stream(self.stream), loop.time())
            if not self.chain.holds:
                changed.close()
                return
            await changed

    async def courier(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            event = await self._queue.get()
            self._carrying = True
            delay = event.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not await self._carry(event):
                return
            self._carrying = False

    async def _carry(self, event: Event) -> bool:
        """Carries out one event; False once the pipe is done (its EOF passed on, or the connection cut)."""
        if isinstance(event, Cut):
            self._connection.terminate(event.reset)
            return False
        try:
            if isinstance(event, Deliver):
                self._writer.write(event.data)
                await self._writer.drain()
                return True
            if self._writer.can_write_eof():
                self._writer.write_eof()
        except OSError:
            self._connection.terminate(reset=True)
            return False
        self.finished = True
        self._connection.pipe_finished()
        return False


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close so that the peer gets an RST ("connection reset by peer") instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError as error:
            _log.debug("cannot set SO_LINGER before a reset: %s", error)
    writer.transport.abort()
