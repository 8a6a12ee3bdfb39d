"""Upstream servers for the proxy tests (an echo, a talker that sends then closes) and a client's clock.

Plain blocking sockets in threads: the proxy under test runs on its own loop, and the peers should be
as ordinary as the programs users put behind Toxiproxy.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Serve = Callable[[socket.socket], None]


@contextmanager
def tcp_server(serve: Serve) -> Iterator[str]:
    """A server on a free loopback port running `serve` on each connection (in its own thread); yields host:port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve_and_close, args=(serve, connection), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), which close() alone would not
        listener.close()
        thread.join(5)


def _serve_and_close(serve: Serve, connection: socket.socket) -> None:
    try:
        serve(connection)
    except OSError:
        pass
    finally:
        connection.close()


def echo(connection: socket.socket) -> None:
    while data := connection.recv(65536):
        connection.sendall(data)


def talker(payload: bytes) -> Serve:
    """Sends `payload` as soon as a client connects, then closes."""
    def serve(connection: socket.socket) -> None:
        connection.sendall(payload)
    return serve


def connect(address: str, timeout: float = 10.0) -> socket.socket:
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def round_trip(connection: socket.socket, payload: bytes = b"ping") -> float:
    """Seconds for `payload` to go through an echo and come back."""
    started = time.monotonic()
    connection.sendall(payload)
    received = b""
    while len(received) < len(payload):
        data = connection.recv(65536)
        assert data, "connection closed during a round trip"
        received += data
    assert received == payload
    return time.monotonic() - started


def read_all(connection: socket.socket) -> tuple[bytes, list[bytes]]:
    """Everything until EOF, and the pieces recv() returned it in."""
    pieces = []
    while data := connection.recv(65536):
        pieces.append(data)
    return b"".join(pieces), pieces
