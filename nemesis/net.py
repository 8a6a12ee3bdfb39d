"""Network partitions: the targets are cut off, as one group, from every other node of the cluster.

Jepsen's partition through iptables DROP rules (cluster/deploy/netfilter.py) for the isolated nodes
only, both ways, so the group still talks within itself and every node outside keeps talking to the
rest. Targets are drawn as for process faults: a share of the nodes ("one" isolates a single
node, "minority" and "majority" split the cluster), a role holder ("partition-leader",
"controller") or a list of names. Clients run on the host and still reach every node, as in
Jepsen's Kafka test: a cut-off leader that clients keep writing to is the case to test.
start-partition isolates, stop-partition reconnects; the isolated nodes are held, so no process
fault picks them meanwhile.
"""

from __future__ import annotations

from operator import methodcaller
from typing import Any

from harness.seams import Deployment, Node
from nemesis.base import NemesisError
from nemesis.process import Action, Claims, FaultKind, ProcessFault

NAME = "partition"


class NetworkPartition(ProcessFault):
    def __init__(self, deployment: Deployment, options: dict[str, Any], claims: Claims) -> None:
        kind = FaultKind(NAME, Action("isolate", self._isolate), Action("reconnect", methodcaller("reconnect")))
        super().__init__(kind, deployment, options, claims)
        self._outside: list[Node] = []
        reasons = {node.cannot_partition for node in deployment.nodes if node.cannot_partition}
        if reasons:
            raise NemesisError(f"the {NAME} fault cannot run on this cluster: {'; '.join(sorted(reasons))}")

    def _start(self, value: Any) -> dict[str, Any]:
        if self.held:
            raise NemesisError(f"{NAME} is already active on {', '.join(n.name for n in self.held)}")
        group = self.targets(value)
        self._outside = [node for node in self.deployment.nodes if node not in group]
        if not self._outside:
            raise NemesisError(f"{', '.join(n.name for n in group)} is the whole cluster: there is nothing to cut it off from")
        done = super()._start([node.name for node in group])
        return {**done, "cut_off_from": [node.name for node in self._outside]}

    def _isolate(self, node: Node) -> None:
        node.isolate(self._outside)
