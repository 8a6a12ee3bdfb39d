"""The NFQUEUE packet handler: one process per faulted node, holding, repeating or damaging what iptables queues.

Run as `python -m cluster.packets --queue N --fault KIND ... --exit-with PID`, in the network namespace
whose packets it handles (a container's: the host starts it through nsenter, so the node image need not
change). One thread, one select loop: the queue's socket, a wake-up pipe for SIGTERM, and the end of the
earliest hold, so that verdicts are never given from two threads at once. A duplicate is sent through a
raw socket with MARK set, which the queueing rules let pass, so that the copy is not queued again.

It ends when told (SIGTERM, SIGINT) and when the process named by --exit-with is gone (a crashed
harness), accepting every packet it still holds first; the rules queue with --queue-bypass, so once no
handler is bound the packets flow untouched: the fault fails open.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

from cluster.packets.handling import KINDS, HeldPackets, PacketFault, flip_bit, segment_bits
from cluster.process_identity import is_running, start_time

MARK = 0x10CA
"""The firewall mark of the handler's own copies: the queueing rules RETURN on it."""
QUEUE_LENGTH = 16384
"""Packets the kernel keeps queued for the handler (held ones included) before it drops new ones."""
READY = "ready"
"""The line the handler prints once it is bound, so that rules are added only when someone is listening."""
_POLL = 0.5
"""How often, at most, the handler checks that the --exit-with process still lives."""


class Handler:
    """The queue's callback and the held packets: the part of the handler that acts on packets."""

    def __init__(self, fault: PacketFault, rng: random.Random, sender: socket.socket) -> None:
        self.fault = fault
        self.rng = rng
        self.sender = sender
        self.held: HeldPackets[Any] = HeldPackets()
        self.handled = 0

    def __call__(self, packet: Any) -> None:
        self.handled += 1
        payload = packet.get_payload()
        handling = self.fault.handling(self.rng, segment_bits(payload))
        if handling.flip_bit is not None:
            packet.set_payload(flip_bit(payload, handling.flip_bit))
        if handling.hold > 0:
            self.held.hold(packet, time.monotonic() + handling.hold)
        else:
            packet.accept()
        for _ in range(handling.copies):
            self._send_copy(payload)

    def release_due(self) -> None:
        for packet in self.held.due(time.monotonic()):
            packet.accept()

    def release_all(self) -> None:
        for packet in self.held.release_all():
            packet.accept()

    def _send_copy(self, payload: bytes) -> None:
        destination = socket.inet_ntoa(payload[16:20])
        try:
            self.sender.sendto(payload, (destination, 0))
        except OSError:
            pass  # a copy that cannot be sent is a duplicate that did not happen, as on a real network


def serve(queue: int, fault: PacketFault, seed: int | None, exit_with: int | None) -> int:
    from netfilterqueue import NetfilterQueue  # only the handler process needs the C extension

    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
    handler = Handler(fault, random.Random(seed), sender)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    nfqueue = NetfilterQueue()
    nfqueue.bind(queue, handler, max_len=QUEUE_LENGTH)
    print(READY, flush=True)
    harness_started = None if exit_with is None else start_time(exit_with)
    try:
        while not stopping and (exit_with is None or is_running(exit_with, harness_started)):
            ready, _, _ = select.select([nfqueue.get_fd(), wake_read], [], [], _timeout(handler.held.next_due()))
            if nfqueue.get_fd() in ready:
                nfqueue.run(block=False)
            handler.release_due()
    finally:
        handler.release_all()
        nfqueue.unbind()
        sender.close()
    print(f"handled {handler.handled} packets", file=sys.stderr, flush=True)
    return 0


def _timeout(next_due: float | None) -> float:
    if next_due is None:
        return _POLL
    return min(_POLL, max(0.0, next_due - time.monotonic()))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cluster.packets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", type=int, required=True, help="the NFQUEUE number the rules send packets to")
    parser.add_argument("--fault", choices=KINDS, required=True)
    parser.add_argument("--probability", type=float, default=1.0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--exit-with", type=int, default=None, help="end once the process with this pid is gone")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse(sys.argv[1:] if argv is None else argv)
    try:
        fault = PacketFault(arguments.fault, arguments.probability, arguments.delay_ms, arguments.jitter_ms)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return serve(arguments.queue, fault, arguments.seed, arguments.exit_with)
    except (OSError, ImportError) as error:
        print(f"error: the packet handler cannot serve queue {arguments.queue}: {error}", file=sys.stderr)
        return 1
