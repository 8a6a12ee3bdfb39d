"""Packet faults without netem: loss, delay, duplication, reordering and corruption of what the targets receive.

Each target's packets from every other node of the cluster are touched (with packet-direction=sent, its
packets to them instead; with both, both ways); the cluster's clients' packets never are:
- packet-loss: dropped with a probability, by an iptables statistic rule;
- packet-delay, packet-duplicate, packet-reorder, packet-corrupt: queued (NFQUEUE) to a handler process
  per target (cluster.packets) that holds, repeats, reorders or flips a bit in them before accepting them.
The settings come from the packet options (packet_options.py) and are shown as the start op's
"parameters". Targets are drawn as for process faults and held until stop, so no other fault picks a
node while its packets are faulted; stop removes exactly the targets' rules and ends their handlers.
"""

from __future__ import annotations

from typing import Any

from harness.seams import Deployment, Node
from nemesis.base import NemesisError
from nemesis.packet_options import HANDLED, LOSS, PacketOptions
from nemesis.process import Action, Claims, FaultKind, ProcessFault

_SEED_RANGE = 2**32


class PacketFaultNemesis(ProcessFault):
    """One packet fault (start-X faults the targets' incoming packets from their peers, stop-X restores them)."""

    def __init__(self, name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 packet_options: PacketOptions) -> None:
        if name != LOSS and name not in HANDLED:
            raise ValueError(f"{name!r} is no packet fault: choose one of {LOSS}, {', '.join(HANDLED)}")
        kind = FaultKind(name, Action(name, self._impose), Action("restore-packets", self._restore))
        super().__init__(kind, deployment, options, claims)
        self.packet_options = packet_options
        reasons = {node.cannot_fault_packets for node in deployment.nodes if node.cannot_fault_packets}
        if reasons:
            raise NemesisError(f"the {name} fault cannot run on this cluster: {'; '.join(sorted(reasons))}")

    def _start(self, value: Any) -> dict[str, Any]:
        done = super()._start(value)
        return {**done, "parameters": self.packet_options.parameters(self.kind.name)}

    def _impose(self, node: Node) -> None:
        peers = [peer for peer in self.deployment.nodes if peer.name != node.name]
        if self.kind.name == LOSS:
            node.lose_packets(peers, self.packet_options.direction, self.packet_options.loss_probability)
        else:
            node.mangle_packets(peers, self.packet_options.direction, self.packet_options.handled(self.kind.name),
                                self.rng.randrange(_SEED_RANGE))

    @staticmethod
    def _restore(node: Node) -> None:
        node.restore_packets()
