"""What passing through the proxy (no toxics) costs a TCP connection, against the same connection made directly.

Rows: ping-pong round trips of a small message over one connection (what a request/response
protocol such as Kafka's feels as added latency), and a bulk transfer read to its end (what a
replica fetch of a large batch feels as throughput). Direct and proxied rounds alternate and the
best of each is kept, so the ratio holds on a loaded machine even when the absolute rates do not.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from toxiproxy import Toxiproxy

from benchmarks._table import print_table
from cluster.proxy.server import server_in_thread


@contextmanager
def _upstream(serve: Callable[[socket.socket], None]) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(serve, connection), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()


def _serve(serve: Callable[[socket.socket], None], connection: socket.socket) -> None:
    with connection:
        try:
            serve(connection)
        except OSError:
            pass


def _echo(connection: socket.socket) -> None:
    while data := connection.recv(65536):
        connection.sendall(data)


def _bulk(size: int) -> Callable[[socket.socket], None]:
    block = bytes(1024 * 1024)

    def serve(connection: socket.socket) -> None:
        for _ in range(size // len(block)):
            connection.sendall(block)
    return serve


def _connect(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    connection = socket.create_connection((host, int(port)))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def round_trips_per_second(address: str, count: int) -> float:
    with _connect(address) as connection:
        started = time.perf_counter()
        for _ in range(count):
            connection.sendall(b"x" * 100)
            received = 0
            while received < 100:
                received += len(connection.recv(100))
        return count / (time.perf_counter() - started)


def megabytes_per_second(address: str, size: int) -> float:
    with _connect(address) as connection:
        started = time.perf_counter()
        received = 0
        while data := connection.recv(1 << 20):
            received += len(data)
        assert received == size
        return size / 1e6 / (time.perf_counter() - started)


def best_pair(measure: Callable[[str], float], direct: str, proxied: str, repeats: int) -> tuple[float, float]:
    best_direct = best_proxied = 0.0
    for _ in range(repeats):
        best_direct = max(best_direct, measure(direct))
        best_proxied = max(best_proxied, measure(proxied))
    return best_direct, best_proxied


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks proxy_overhead")
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    size = args.megabytes * 1024 * 1024
    with server_in_thread() as server, _upstream(_echo) as echo, _upstream(_bulk(size)) as bulk:
        client = Toxiproxy()
        host, _, port = server.address.rpartition(":")
        client.update_api_consumer(host, int(port))
        echo_proxy = client.create(upstream=echo, name="echo")
        bulk_proxy = client.create(upstream=bulk, name="bulk")
        rows = []
        for name, measure, direct, proxied in (
                ("100-byte round trips /s", lambda a: round_trips_per_second(a, args.round_trips), echo,
                 echo_proxy.listen),
                (f"{args.megabytes} MiB transfer MB/s", lambda a: megabytes_per_second(a, size), bulk,
                 bulk_proxy.listen)):
            direct_rate, proxied_rate = best_pair(measure, direct, proxied, args.repeats)
            rows.append([name, direct_rate, proxied_rate, proxied_rate / direct_rate])
    print_table(["loopback TCP, no toxics", "direct", "through the proxy", "ratio"], rows)
