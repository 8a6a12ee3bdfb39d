"""Network partitions with iptables, Jepsen's way: DROP rules where a node's packets pass.

A node drops packets it receives from some peers and packets it sends to others (both for a clean
cut, one of them for a one-way cut) by rules in one chain, each rule tagged with the node's name in
a comment, so that reconnecting removes exactly that node's rules. Rules are only ever added on the
node that holds them, so a peer that is killed or paused meanwhile is never touched and nodes cut
off together still talk among themselves. Where the rules live depends on
the backend: a container has a namespace of its own, with a chain hooked from INPUT and OUTPUT and
rules by address; local nodes share the host's, where a connection a node opens leaves from
127.0.0.1 like every client's, so its rules match the node's cgroup instead (node_cgroups.py).

These functions build the commands; a node handle runs them where its packets pass.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

CONTAINER_CHAIN = "logquake-partition"
"""The chain in each container's own namespace, where nothing else of ours lives."""
_NO_CHAIN = "No chain/target/match by that name"

Rule = tuple[str, ...]
"""The iptables match and target of one rule, e.g. ("-s", "10.0.0.2", "-d", "10.0.0.3", "-j", "DROP")."""
DROP = ("-j", "DROP")


def address_drops(host: str, inbound_from: Sequence[str], outbound_to: Sequence[str]) -> list[Rule]:
    """Packets host receives from each of inbound_from and sends to each of outbound_to, told apart by address."""
    return ([("-s", peer, "-d", host, *DROP) for peer in inbound_from]
            + [("-s", host, "-d", peer, *DROP) for peer in outbound_to])


def drop_command(chain: str, hooks: Sequence[str], owner: str, rules: Sequence[Rule]) -> list[str]:
    """One shell command that creates and hooks the chain if needed and appends owner's rules."""
    lines = [
        "set -e",
        f"iptables -w -N {chain} 2>/dev/null || iptables -w -S {chain} >/dev/null",
        *(f"iptables -w -C {hook} -j {chain} 2>/dev/null || iptables -w -I {hook} -j {chain}" for hook in hooks),
        *(f"iptables -w -A {chain} -m comment --comment {_tag(owner)} {' '.join(rule)}" for rule in rules),
    ]
    return ["sh", "-c", "\n".join(lines)]


def listing_command(chain: str) -> list[str]:
    return ["iptables", "-w", "-S", chain]


def reconnect_command(chain: str, owner: str, listing: str) -> list[str] | None:
    """The deletions of owner's rules in `listing` (iptables -S output); None if it has none."""
    rules = [words[2:] for words in map(shlex.split, listing.splitlines())
             if words[:2] == ["-A", chain] and _tag(owner) in words]
    if not rules:
        return None
    return ["sh", "-c", "\n".join(["set -e", *(f"iptables -w -D {chain} {shlex.join(rule)}" for rule in rules)])]


def remove_chain_command(chain: str, hooks: Sequence[str]) -> list[str]:
    """Unhooks, flushes and deletes the chain: every partition in it is gone; a missing chain is no error."""
    return ["sh", "-c", "\n".join([
        *(f"while iptables -w -D {hook} -j {chain} 2>/dev/null; do :; done" for hook in hooks),
        f"iptables -w -F {chain} 2>/dev/null || true",
        f"iptables -w -X {chain} 2>/dev/null || true",
    ])]


def chain_missing(output: str) -> bool:
    """True when iptables failed only because the chain does not exist: nothing was ever cut off there."""
    return _NO_CHAIN in output


def _tag(owner: str) -> str:
    return f"logquake:{owner}"
