"""What the NFQUEUE packet handler (cluster.packets) sustains: TCP through it beside TCP that bypasses it.

The measurement runs in a network namespace of its own (`unshare -n`), so its rules meet nobody else's
traffic: loopback with a 1500-byte MTU, as on an Ethernet link, and two TCP servers, one whose incoming
packets an iptables INPUT rule queues to a handler passing every packet on at once (packet-delay with
0 ms: the handler's fixed cost per packet, before any fault), the other untouched. Interleaved rounds,
the order alternating, of a bulk transfer (MB/s; the packets the handler saw per second come from the
rule's counter) and of small request/response round trips (the latency one pass through the handler adds).

    python -m benchmarks packet_handler [--megabytes=N] [--round-trips=N] [--rounds=N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks._cpu import load_average
from benchmarks._table import print_table
from cluster.deploy.packet_rules import claim_queue, queue_target
from cluster.packets.handling import PacketFault
from cluster.packets.process import HandlerProcess, unavailable_reason

HOST = "127.0.0.1"
DIRECT, HANDLED = 7301, 7302
"""The untouched server's port and the one whose incoming packets go through the handler."""
CHUNK = 64 * 1024
MTU = 1500
SIDES = {"direct": DIRECT, "handled": HANDLED}
BULK, ECHO = b"B", b"E"
"""A connection's first byte: what the server does with the rest."""


def main(argv: list[str]) -> None:
    options = _parse(argv)
    if not options.in_namespace:
        reason = unavailable_reason()
        if reason is not None:
            raise SystemExit(f"packet_handler needs what packet faults need: {reason}")
        code = subprocess.call(["unshare", "-n", sys.executable, "-c",
                                "import sys; from benchmarks.packet_handler import main; main(sys.argv[1:])",
                                *argv, "--in-namespace"], cwd=Path(__file__).resolve().parents[1])
        if code != 0:
            raise SystemExit(f"the measurement in its own network namespace failed (exit {code})")
        return
    _measure(options)


@dataclass
class Side:
    bulk: list[float] = field(default_factory=list)
    """MB/s of each round's bulk transfer."""
    round_trips: list[float] = field(default_factory=list)
    """Median seconds of one request/response, per round."""


def _measure(options: argparse.Namespace) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up", "mtu", str(MTU)], check=True)
    servers = [_serve(port) for port in SIDES.values()]
    print(f"{psutil.cpu_count()} cores, load average {load_average()} at start; loopback MTU {MTU}; "
          f"{options.rounds} rounds of {options.megabytes} MB and {options.round_trips:,} round trips per side")
    sides = {name: Side() for name in SIDES}
    through = Handled()
    try:
        for round_number in range(options.rounds):
            order = list(SIDES) if round_number % 2 == 0 else list(reversed(SIDES))
            for name in order:
                with _handler(through) if name == "handled" else nullcontext():
                    started = time.monotonic()
                    sides[name].bulk.append(_bulk(SIDES[name], options.megabytes))
                    if name == "handled":
                        through.seconds += time.monotonic() - started
                with _handler(Handled()) if name == "handled" else nullcontext():
                    sides[name].round_trips.append(_ping_pong(SIDES[name], options.round_trips))
    finally:
        for server in servers:
            server.close()
    _report(sides, through)


@dataclass
class Handled:
    """What the handlers of the bulk transfers did: packets, the transfers' seconds, the handlers' CPU-seconds."""

    packets: int = 0
    seconds: float = 0.0
    cpu: float = 0.0


@contextmanager
def _handler(handled: Handled) -> Iterator[None]:
    """A fresh pass-through handler, with the HANDLED port's incoming packets queued to it, for one measurement;
    its count of packets (it says it as it ends) and its CPU time are added to `handled`."""
    queue, claim = claim_queue()
    log = Path(f"/tmp/logquake-bench-packet-handler-{queue}.log")
    handler = HandlerProcess([], queue, PacketFault("delay"), seed=1, log_path=log, keep_fds=[claim.fileno()])
    rule = ["INPUT", "-p", "tcp", "--dport", str(HANDLED), *queue_target(queue)]
    subprocess.run(["iptables", "-w", "-A", *rule], check=True)
    try:
        yield
        times = psutil.Process(handler.pid).cpu_times()
        handled.cpu += times.user + times.system
    finally:
        subprocess.run(["iptables", "-w", "-D", *rule], check=False)
        handler.stop()
        claim.close()
        said = log.read_text(errors="replace").split()
        log.unlink(missing_ok=True)
    handled.packets += int(said[said.index("handled") + 1])


def _report(sides: dict[str, Side], handled: Handled) -> None:
    direct, through = sides["direct"], sides["handled"]
    bulk = (statistics.median(direct.bulk), statistics.median(through.bulk))
    trip = (statistics.median(direct.round_trips) * 1e6, statistics.median(through.round_trips) * 1e6)
    print_table(["measure", "direct", "handled", "handled / direct"], [
        ["bulk TCP, MB/s (median of rounds)", bulk[0], bulk[1], f"{bulk[1] / bulk[0]:.3f}x"],
        ["round trip, µs (median)", trip[0], trip[1], f"{trip[1] / trip[0]:.2f}x"],
    ])
    print(f"handler: {handled.packets / handled.seconds:,.0f} packets/s through it during the bulk transfers "
          f"({handled.packets:,} packets), {handled.cpu / handled.seconds:.2f} cores; "
          f"load average {load_average()} at end")


def _serve(port: int) -> socket.socket:
    """A server, one connection at a time, whose first byte says what it is: BULK (swallow everything, then
    close) or ECHO (answer each request)."""
    server = socket.create_server((HOST, port))

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                mode = connection.recv(1)
                while data := connection.recv(CHUNK):
                    if mode == ECHO:
                        connection.sendall(data)

    threading.Thread(target=accept, daemon=True).start()
    return server


def _bulk(port: int, megabytes: int) -> float:
    chunk = b"\x00" * CHUNK
    chunks = megabytes * 1024 * 1024 // CHUNK
    with socket.create_connection((HOST, port)) as client:
        started = time.monotonic()
        client.sendall(BULK)
        for _ in range(chunks):
            client.sendall(chunk)
        client.shutdown(socket.SHUT_WR)
        client.recv(1)  # the server closes once it has read everything
        return chunks * CHUNK / 1024 / 1024 / (time.monotonic() - started)


def _ping_pong(port: int, count: int) -> float:
    with socket.create_connection((HOST, port)) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.sendall(ECHO)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            client.sendall(b"ping")
            _receive(client, 4)
            times.append(time.perf_counter() - started)
        return statistics.median(times)


def _receive(client: socket.socket, size: int) -> None:
    received = 0
    while received < size:
        data = client.recv(size - received)
        if not data:
            raise ConnectionError("the echo server closed the connection")
        received += len(data)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks packet_handler")
    parser.add_argument("--megabytes", type=int, default=64, help="per bulk transfer")
    parser.add_argument("--round-trips", type=int, default=2000, help="per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-namespace", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)
