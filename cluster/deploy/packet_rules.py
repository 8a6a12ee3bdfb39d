"""Packet faults on one node: iptables rules that drop or queue the packets it receives from (or sends to) its peers.

packet-loss is a rule alone (`-m statistic --mode random --probability p -j DROP`); the other packet
faults queue the packets (`-j NFQUEUE --queue-bypass`) to a handler process (cluster.packets) that runs
in the node's network namespace. The rules live in a chain of their own, hooked at the END of the
chains its packets pass, so that a partition's DROP rules (hooked first,
netfilter.py) still drop what they cut: a queued packet, once accepted, skips the rest of the hook.
The chain's first rule lets the handler's own copies (MARK) pass. Each rule is tagged with the node's
name, so that removing one node's fault removes exactly its rules.

Queue numbers are claimed host-wide (claims.py), as local nodes share the host's namespace; the handler
inherits the claim, so a number stays taken while its handler lives, whatever happened to the harness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from cluster.deploy import claims, netfilter
from cluster.deploy.netfilter import Rule
from cluster.packets.handler import MARK
from cluster.packets.handling import PacketFault
from cluster.packets.process import HandlerError, HandlerProcess

CONTAINER_CHAIN = "logquake-packets"
"""The chain in each container's own namespace, hooked from INPUT and OUTPUT."""
DIRECTIONS = ("received", "sent", "both")
"""Which of a node's packets a fault touches: those it receives from its peers, sends to them, or both."""
MARK_MASK = 0xFFFF
"""Only the low bits say "a handler's copy": partitions may keep connection marks in the high ones."""
QUEUE_CLAIMS = claims.CLAIMS_DIR / "logquake-nfqueues"
FIRST_QUEUE = 4096
"""Queue numbers handed out from here up: below it, other users of NFQUEUE on the host are likelier."""
_QUEUES = 16384

Exec = Callable[[list[str]], tuple[int, str]]
RulesFor = Callable[[Rule], list[Rule]]
"""A node's rules that give a target (`-j ...` and its options) to the packets a fault touches."""


class PacketRuleError(RuntimeError):
    """Rules could not be added or removed, or no handler could be started; the message says why."""


def loss_target(probability: float) -> Rule:
    return ("-m", "statistic", "--mode", "random", "--probability", f"{probability:.6f}", "-j", "DROP")


def queue_target(queue: int) -> Rule:
    return ("-j", "NFQUEUE", "--queue-num", str(queue), "--queue-bypass")


def add_command(chain: str, hooks: Sequence[str], owner: str, rules: Sequence[Rule]) -> list[str]:
    """Creates and hooks the chain if needed (its first rule passes the handler's copies), then appends the rules,
    each tagged with its owner."""
    passing = f"-m mark --mark {MARK:#x}/{MARK_MASK:#x} -j RETURN"
    lines = [
        "set -e",
        f"iptables -w -N {chain} 2>/dev/null || iptables -w -S {chain} >/dev/null",
        f"iptables -w -C {chain} {passing} 2>/dev/null || iptables -w -I {chain} {passing}",
        *(f"iptables -w -C {hook} -j {chain} 2>/dev/null || iptables -w -A {hook} -j {chain}" for hook in hooks),
        *(f"iptables -w -A {chain} -m comment --comment logquake:{_owner(owner)} {' '.join(rule)}" for rule in rules),
    ]
    return ["sh", "-c", "\n".join(lines)]


def _owner(name: str) -> str:
    """Whose rules these are, as netfilter.reconnect_command finds them (it adds the "logquake:" of every tag)."""
    return f"packets:{name}"


def claim_queue() -> tuple[int, IO[bytes]]:
    """The lowest queue number no other live handler on this host uses, and its claim (held until closed): the
    claim files stay few, one per handler that ever ran at once."""
    for queue in range(FIRST_QUEUE, FIRST_QUEUE + _QUEUES):
        held = claims.claim(QUEUE_CLAIMS, str(queue))
        if held is not None:
            return queue, held
    raise PacketRuleError(f"every NFQUEUE number from {FIRST_QUEUE} to {FIRST_QUEUE + _QUEUES - 1} is claimed")


class NodePackets:
    """One node's packet fault: its rules in `chain` (where `run` executes) and, for a queued fault, its handler."""

    def __init__(self, name: str, chain: str, hooks: Sequence[str], run: Exec, log_path: Path) -> None:
        self.name = name
        self.chain = chain
        self.hooks = tuple(hooks)
        self.run = run
        self.log_path = log_path
        self._handler: HandlerProcess | None = None
        self._claim: IO[bytes] | None = None
        self._has_rules = False
        """Whether this node's rules may have been added and are not removed yet: only then is its chain listed,
        since iptables-nft may answer the listing of a chain never made with "incompatible" rather than "no chain"."""

    def drop(self, rules_for: RulesFor, probability: float) -> None:
        """Adds the rules that drop a share of the packets (rules_for gives the node's rules for a target)."""
        self._add(rules_for(loss_target(probability)))

    def queue(self, rules_for: RulesFor, fault: PacketFault, seed: int, prefix: Sequence[str]) -> None:
        """Starts the handler (in the namespace `prefix` enters), then queues the packets to it."""
        queue, self._claim = claim_queue()
        try:
            self._handler = HandlerProcess(prefix, queue, fault, seed, self.log_path, keep_fds=[self._claim.fileno()])
            self._add(rules_for(queue_target(queue)))
        except (HandlerError, PacketRuleError) as error:
            self.restore()
            raise PacketRuleError(f"{fault.kind} on {self.name}: {error}") from error

    def restore(self, rules: bool = True) -> None:
        """Removes this node's rules (unless they went with their namespace), then ends its handler, which lets
        every packet it holds go."""
        try:
            if rules and self._has_rules:
                self._remove_rules()
            self._has_rules = False
        finally:
            if self._handler is not None:
                self._handler.stop()
                self._handler = None
            if self._claim is not None:
                self._claim.close()
                self._claim = None

    def _add(self, rules: Sequence[Rule]) -> None:
        self._has_rules = True  # from here on: a command that fails half-way may have added some
        code, output = self.run(add_command(self.chain, self.hooks, self.name, rules))
        if code != 0:
            raise PacketRuleError(f"adding packet rules for {self.name} failed (exit {code}): {output.strip()}")

    def _remove_rules(self) -> None:
        code, listing = self.run(netfilter.listing_command(self.chain))
        if code != 0:
            if netfilter.chain_missing(listing):
                return
            raise PacketRuleError(f"listing the packet rules of {self.name} failed (exit {code}): {listing.strip()}")
        command = netfilter.reconnect_command(self.chain, _owner(self.name), listing)
        if command is not None:
            code, output = self.run(command)
            if code != 0:
                raise PacketRuleError(f"removing the packet rules of {self.name} failed (exit {code}): {output.strip()}")
