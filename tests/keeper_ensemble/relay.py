"""A TCP relay in front of one server, whose cable the test can pull.

Cutting closes every relayed connection and turns new ones away, so a client
behind it can neither talk nor reconnect while the server still runs: the
server alone decides when the session has expired, as after a real network
failure. Healing lets the client reach the server again; moving it to another
server makes the client fail over to exactly that one.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

HOST = "127.0.0.1"


class Relay:
    def __init__(self, target: str) -> None:
        self._target = _address(target)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self.relayed = 0
        """Connections relayed so far: whether clients came this way at all."""
        self._threads = [threading.Thread(target=self._accept, name="relay-accept", daemon=True)]
        self._threads[0].start()

    @property
    def address(self) -> str:
        return f"{HOST}:{self._listener.getsockname()[1]}"

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            _shut(connection)

    def heal(self) -> None:
        self._cut.clear()

    def move_to(self, target: str) -> None:
        """Drops every connection and sends the next ones to another server: the client must fail over."""
        self._target = _address(target)
        self.cut()
        self.heal()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if self._cut.is_set():
                _shut(client)
                continue
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                _shut(client)
                continue
            for sock in (client, server):
                sock.settimeout(None)
            with self._lock:
                self._connections += [client, server]
                self.relayed += 1
            for source, sink in ((client, server), (server, client)):
                pump = threading.Thread(target=_pump, args=(source, sink), name="relay-pump", daemon=True)
                self._threads.append(pump)
                pump.start()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _address(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host, int(port)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _shut(source)
        _shut(sink)


def _shut(sock: socket.socket) -> None:
    """shutdown() wakes a thread blocked in recv() on the socket; close() alone would not."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
