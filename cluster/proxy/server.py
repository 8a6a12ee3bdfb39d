"""The proxy server as a whole: the HTTP API and the proxies it manages, on one asyncio loop.

Three ways to run it: `serve()` as a process's main loop (until a signal, or until the process
named by `exit_with` is gone, so a proxy server started by a harness never outlives it);
`ProxyServer` on a loop of one's own; `server_in_thread()` for a caller without a loop (tests).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cluster.process_identity import is_running, start_time
from cluster.proxy.addresses import join_address
from cluster.proxy.api import Api
from cluster.proxy.http import start_http_server
from cluster.proxy.registry import Registry

_log = logging.getLogger(__name__)

DEFAULT_API_ADDRESS = "127.0.0.1:8474"
"""Toxiproxy's default, so clients find us where they would find it."""

EXIT_WITH_POLL_SECONDS = 0.5


class ProxyServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8474) -> None:
        self._host = host
        self._port = port
        self.registry = Registry()
        self._http: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """The API's `host:port` (the bound port when started with port 0)."""
        assert self._http is not None, "not started"
        return join_address(self._host, self._http.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._http = await start_http_server(self._host, self._port, Api(self.registry).handle)
        _log.info("proxy server API on %s", self.address)

    async def stop(self) -> None:
        """Stop answering the API and take every proxy down with its connections."""
        if self._http is not None:
            self._http.close()
            self._http = None
        self.registry.close()


async def serve(host: str, port: int, exit_with: int | None = None) -> None:
    """Run until SIGTERM/SIGINT or until process `exit_with` is gone."""
    server = ProxyServer(host, port)
    await server.start()
    print(f"proxy server API listening on {server.address}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watcher = asyncio.create_task(_wait_for_exit(exit_with, stop)) if exit_with is not None else None
    await stop.wait()
    if watcher is not None:
        watcher.cancel()
    await server.stop()


async def _wait_for_exit(pid: int, stop: asyncio.Event) -> None:
    started = start_time(pid)
    while is_running(pid, started):
        await asyncio.sleep(EXIT_WITH_POLL_SECONDS)
    _log.info("process %d is gone: stopping", pid)
    stop.set()


async def _stop_everything(server: ProxyServer) -> None:
    """The server, then whatever still runs on its loop (API connections kept alive by their clients)."""
    await server.stop()
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


@contextmanager
def server_in_thread(host: str = "127.0.0.1", port: int = 0) -> Iterator[ProxyServer]:
    """A started server on a loop in a daemon thread, stopped (proxies and all) on leaving."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="proxy-server", daemon=True)
    thread.start()
    server = ProxyServer(host, port)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result()
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(_stop_everything(server), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
