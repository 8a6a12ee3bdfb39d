"""Network partitions with iptables, Jepsen's way: DROP rules in a node's own network namespace.

A node is cut off from its peers by rules in one chain of its namespace, hooked from INPUT and
OUTPUT, that drop packets both ways (node to peer, peer to node). Only the isolated node carries
rules, so a peer that is killed or paused meanwhile is never touched, and nodes cut off together
still talk among themselves. This needs a namespace per node whose packets carry the node's own
address: a container has one. Local processes share the host's, where a connection a node opens
leaves from 127.0.0.1 like every client's, so no rule could tell which node sent it.

These functions build the commands; a node handle runs them in its namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

CHAIN = "logquake-partition"
_NO_CHAIN = "No chain/target/match by that name"


def isolate_command(host: str, peers: Sequence[str]) -> list[str]:
    """One shell command that creates and hooks the chain if needed and drops host <-> each peer."""
    lines = [
        "set -e",
        f"iptables -w -N {CHAIN} 2>/dev/null || iptables -w -S {CHAIN} >/dev/null",
        *(f"iptables -w -C {hook} -j {CHAIN} 2>/dev/null || iptables -w -I {hook} -j {CHAIN}" for hook in ("INPUT", "OUTPUT")),
        *(f"iptables -w -A {CHAIN} {' '.join(rule)} -j DROP" for rule in _both_ways(host, peers)),
    ]
    return ["sh", "-c", "\n".join(lines)]


LISTING_COMMAND = ["iptables", "-w", "-S", CHAIN]


def reconnect_command(host: str, listing: str) -> list[str] | None:
    """The deletions of every rule in `listing` (iptables -S output) that names `host`; None if there are none."""
    mine = f"{host}/32"
    rules = [line.split()[2:] for line in listing.splitlines() if line.startswith(f"-A {CHAIN} ") and mine in line.split()]
    if not rules:
        return None
    return ["sh", "-c", "\n".join(["set -e", *(f"iptables -w -D {CHAIN} {' '.join(rule)}" for rule in rules)])]


def chain_missing(output: str) -> bool:
    """True when iptables failed only because the chain does not exist: nothing was ever cut off there."""
    return _NO_CHAIN in output


def _both_ways(host: str, peers: Sequence[str]) -> list[tuple[str, ...]]:
    return [rule for peer in peers for rule in (("-s", host, "-d", peer), ("-s", peer, "-d", host))]
