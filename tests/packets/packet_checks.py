"""The packet faults' effects on real traffic between two nodes, checked alike on containers and local processes.

The fault is started through the nemesis on the receiving node, so the datagrams the other node sends it
pass through its rules (and handler); answers travel back untouched. Assertions are on behaviour with
wide margins (a delay makes round trips slower than most of the delay, duplicates arrive twice), never on
timing precision: the machine is shared.
"""

from __future__ import annotations

import os
import random
import signal

import psutil

import nemesis
from cluster.deploy import netfilter
from cluster.deploy.node import Node
from tests.packets.traffic import Seen, udp_exchange

COUNT = 200


def handlers() -> list[psutil.Process]:
    """The packet handlers this process started (they end with it: --exit-with our pid)."""
    mine = ["--exit-with", str(os.getpid())]
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "cluster.packets" in command and any(command[i:i + 2] == mine for i in range(len(command))):
            found.append(process)
    return found


def packet_rules(node: Node) -> list[str]:
    code, listing = node.exec(netfilter.listing_command(node.packet_chain))
    if code != 0:
        assert netfilter.chain_missing(listing), listing
        return []
    return [line for line in listing.splitlines() if line.startswith("-A ") and f"packets:{node.name}" in line]


def under_fault(deployment, fault: str, options: dict[str, str], python: str, count: int = COUNT) -> Seen:
    """The exchange from the first keeper to the second while `fault` acts on the second (on the first, with
    packet-direction=sent); stopped afterwards."""
    sender, receiver = deployment.keepers[0], deployment.keepers[1]
    target = sender if options.get("packet-direction") == "sent" else receiver
    faults = nemesis.build([fault], deployment, {"rng": random.Random(3), "roles": ("keeper",),
                                                 "nemesis_options": options})
    done = faults.invoke(f"start-{fault}", [target.name])
    assert done["nodes"] == [target.name] and done["parameters"], done
    try:
        assert packet_rules(target), "the fault added no rules"
        return udp_exchange(sender, receiver, python, count)
    finally:
        faults.invoke(f"stop-{fault}", None)
        assert packet_rules(target) == [] and handlers() == [], "stop left rules or a handler behind"


def check_undisturbed(deployment, python: str) -> Seen:
    seen = udp_exchange(deployment.keepers[0], deployment.keepers[1], python, COUNT)
    assert sorted(seen.intact) == list(range(COUNT)) and seen.damaged == 0
    return seen


def check_delay(deployment, python: str) -> None:
    seen = under_fault(deployment, "packet-delay", {"packet-delay-ms": "200", "packet-jitter-ms": "0"}, python, 50)
    assert len(seen.round_trips) == 50
    assert min(seen.round_trips.values()) > 0.15, "a 200 ms delay left a round trip under 150 ms"
    assert check_undisturbed(deployment, python).median_round_trip < 0.1, "the delay outlived its stop"


def check_delay_of_what_a_target_sends(deployment, python: str) -> None:
    seen = under_fault(deployment, "packet-delay", {"packet-delay-ms": "200", "packet-jitter-ms": "0",
                                                    "packet-direction": "sent"}, python, 50)
    assert len(seen.round_trips) == 50 and min(seen.round_trips.values()) > 0.15


def check_duplicate(deployment, python: str) -> None:
    seen = under_fault(deployment, "packet-duplicate", {"duplicate-probability": "1"}, python)
    assert set(seen.intact) == set(range(COUNT))
    assert seen.repeats >= 0.9 * COUNT, f"only {seen.repeats} of {COUNT} datagrams arrived twice"
    assert check_undisturbed(deployment, python).repeats == 0


def check_reorder(deployment, python: str) -> None:
    seen = under_fault(deployment, "packet-reorder", {"reorder-probability": "0.5", "reorder-delay-ms": "50"}, python)
    assert set(seen.intact) == set(range(COUNT)), "reordering lost datagrams"
    assert seen.inversions >= 0.1 * COUNT, f"only {seen.inversions} of {COUNT} datagrams arrived out of order"
    assert check_undisturbed(deployment, python).inversions == 0


def check_corrupt(deployment, python: str) -> None:
    """Every datagram gets a flipped bit: its UDP checksum fails and the receiver's kernel drops it, so none
    arrives at all, intact or damaged (TCP's checksum does the same, and TCP retransmits)."""
    seen = under_fault(deployment, "packet-corrupt", {"corrupt-probability": "1"}, python)
    assert seen.intact == [], f"{len(seen.intact)} corrupted datagrams arrived intact"
    assert seen.damaged == 0, f"{seen.damaged} damaged datagrams got past the checksum"
    check_undisturbed(deployment, python)


def check_loss(deployment, python: str) -> None:
    seen = under_fault(deployment, "packet-loss", {"loss-probability": "0.5"}, python, 400)
    assert 120 <= len(seen.intact) <= 280, f"{len(seen.intact)} of 400 datagrams arrived at 50% loss"
    check_undisturbed(deployment, python)


def check_fails_open_when_the_handler_dies(deployment, python: str) -> None:
    """A handler killed outright leaves its rules queueing to nobody: --queue-bypass lets the packets through."""
    receiver = deployment.keepers[1]
    faults = nemesis.build(["packet-delay"], deployment, {"rng": random.Random(4), "roles": ("keeper",),
                                                          "nemesis_options": {"packet-delay-ms": "300"}})
    faults.invoke("start-packet-delay", [receiver.name])
    try:
        for handler in handlers():
            handler.send_signal(signal.SIGKILL)
            handler.wait(5)
        assert packet_rules(receiver), "the rules should outlive the handler"
        seen = check_undisturbed(deployment, python)
        assert seen.median_round_trip < 0.15, "with no handler bound, queued packets must pass undelayed"
    finally:
        faults.heal()
    assert packet_rules(receiver) == []
