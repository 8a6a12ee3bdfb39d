"""Real traffic between two nodes of a deployment, as their own processes send it, for the packet-fault tests.

The receiver runs as one node (in its container, or on the host in its cgroup) and answers each UDP
datagram; the sender runs as the other and sends numbered datagrams. What each saw comes back as
JSON: the receiver the sequence numbers it got intact (in arrival order) and how many arrived damaged,
the sender each datagram's round trip. Both run through Node.exec, so the packets are the nodes' own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
from dataclasses import dataclass
from typing import Protocol


class Endpoint(Protocol):
    """Where a side of the exchange runs: a node (as the node), or the host (as a client)."""

    host: str

    def exec(self, argv: list[str]) -> tuple[int, str]: ...


class Client:
    """The host itself, as the harness's clients are: outside every node's cgroup."""

    host = "127.0.0.1"

    def exec(self, argv: list[str]) -> tuple[int, str]:
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return result.returncode, result.stdout.decode(errors="replace")

PORT = 7071
PAYLOAD = 200
RECEIVER = """
import json, socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], int(sys.argv[2])))
sock.settimeout(0.2)
deadline = time.monotonic() + float(sys.argv[3])
intact, damaged = [], 0
while time.monotonic() < deadline:
    try:
        data, peer = sock.recvfrom(4096)
    except socket.timeout:
        continue
    seq = int.from_bytes(data[:4], "big")
    if data[4:] == bytes([seq % 251]) * (len(data) - 4):
        intact.append(seq)
        sock.sendto(data, peer)
    else:
        damaged += 1
print(json.dumps({"intact": intact, "damaged": damaged}))
"""
SENDER = """
import json, socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setblocking(False)
count, gap, size = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
sent, rtts = {}, {}
def collect():
    while True:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return
        seq = int.from_bytes(data[:4], "big")
        if seq in sent and seq not in rtts:
            rtts[seq] = time.monotonic() - sent[seq]
for seq in range(count):
    sent[seq] = time.monotonic()
    try:
        sock.sendto(seq.to_bytes(4, "big") + bytes([seq % 251]) * size, (sys.argv[1], int(sys.argv[2])))
    except PermissionError:
        pass  # dropped by a rule on the sender's way out (local nodes: OUTPUT), which is loss
    end = time.monotonic() + gap
    while time.monotonic() < end:
        collect()
        time.sleep(0.0005)
end = time.monotonic() + 1.5
while time.monotonic() < end:
    collect()
    time.sleep(0.001)
print(json.dumps(rtts))
"""


@dataclass(frozen=True)
class Seen:
    intact: list[int]
    """The sequence numbers the receiver got intact, in the order they arrived (repeats included)."""
    damaged: int
    round_trips: dict[int, float]
    """Seconds from sending each datagram to its first answer, for those answered."""

    @property
    def median_round_trip(self) -> float:
        return statistics.median(self.round_trips.values())

    @property
    def repeats(self) -> int:
        return len(self.intact) - len(set(self.intact))

    @property
    def inversions(self) -> int:
        """How many datagrams arrived after one sent later than them (each arrival counted once)."""
        highest, late = -1, 0
        for seq in self.intact:
            if seq < highest:
                late += 1
            highest = max(highest, seq)
        return late


def udp_exchange(sender: Endpoint, receiver: Endpoint, python: str, count: int, gap: float = 0.002) -> Seen:
    """`count` datagrams from sender to receiver, `gap` seconds apart, each answered by the receiver."""
    listening = count * gap + 4
    heard: dict[str, str] = {}

    def receive() -> None:
        code, output = receiver.exec([python, "-c", RECEIVER, receiver.host, str(PORT), str(listening)])
        heard["output"] = output if code == 0 else f"exit {code}: {output}"

    thread = threading.Thread(target=receive)
    thread.start()
    try:
        threading.Event().wait(1.0)  # the receiver binds its socket (a container exec takes a moment)
        code, output = sender.exec([python, "-c", SENDER, receiver.host, str(PORT), str(count), str(gap), str(PAYLOAD)])
        assert code == 0, output
    finally:
        thread.join()
    received = json.loads(heard["output"].strip().splitlines()[-1])
    round_trips = {int(seq): rtt for seq, rtt in json.loads(output.strip().splitlines()[-1]).items()}
    return Seen(received["intact"], received["damaged"], round_trips)
