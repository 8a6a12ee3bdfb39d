"""Network partitions: a grudge (who drops whose packets, grudges.py) applied with iptables, healed exactly.

Jepsen's partitions through iptables DROP rules (cluster/deploy/netfilter.py). The target says the
shape: a share of the run's pool ("one", "minority", "majority"), a role group or holder
("all-keepers", "partition-leader", "controller") or a list of names is a group cut off, as one,
from every other node of the cluster; "majorities-ring", "bridge", "minority-third" and
"primaries" (each partition leader of the run's topic alone) are Jepsen's shapes over every node
of the cluster; `DROPPERS:SENDERS[;...]` is a grudge written out (grudges.py), e.g.
"partition-leader:all-keepers", a leader that sends to the keepers but hears nothing back; `A>B`
escalates: A's links are cut, and "escalate-after-s" later B's too (partition_options.py). Clients
run on the host and still reach every node, as in Jepsen's Kafka test. Targets are checked before a
run in partition_targets.py.

Each dropped link gets one rule, on its receiving or its sending end: the fewest nodes that way
(grudges.cover, nodes free of other faults first). Those nodes are held until stop-partition
removes exactly their rules, so no process fault kills or pauses one meanwhile (a container's
restart would take its namespace's rules with it).
"""

from __future__ import annotations

import time
from operator import methodcaller
from typing import Any

from harness.seams import Deployment, Node
from nemesis import grudges
from nemesis.base import NemesisError
from nemesis.grudges import Grudge, GrudgeError
from nemesis.partition_options import PartitionOptions
from nemesis.partition_targets import ESCALATION, PARTITION as NAME, PRIMARIES, is_partition_target
from nemesis.process import Action, Claims, FaultKind, ProcessFault
from nemesis.targets import ROLE_GROUPS, ROLE_HOLDERS


class NetworkPartition(ProcessFault):
    def __init__(self, deployment: Deployment, options: dict[str, Any], claims: Claims) -> None:
        kind = FaultKind(NAME, Action("drop", self._drop), Action("reconnect", methodcaller("reconnect")))
        super().__init__(kind, deployment, options, claims)
        self.settings = PartitionOptions.parse(options.get("nemesis_options") or {}, (NAME,))
        self._plan: dict[str, tuple[list[Node], list[Node]]] = {}
        """Per node holding rules: the peers it drops packets from, and those it drops packets to."""
        reasons = {node.cannot_partition for node in deployment.nodes if node.cannot_partition}
        if reasons:
            raise NemesisError(f"the {NAME} fault cannot run on this cluster: {'; '.join(sorted(reasons))}")

    def _start(self, value: Any) -> dict[str, Any]:
        if self.held:
            raise NemesisError(f"{NAME} is already active on {', '.join(n.name for n in self.held)}")
        stages = value.split(ESCALATION) if isinstance(value, str) and ESCALATION in value else [value]
        grudge: Grudge = {}
        described: dict[str, Any] = {}
        for number, stage in enumerate(stages):
            if number:
                time.sleep(self.settings.escalate_after_s)
            try:
                added, described = self._grudge(stage)
            except GrudgeError as error:
                raise NemesisError(str(error)) from None
            self._cut(grudges.links(added) - grudges.links(grudge))
            grudge = grudges.from_links(grudges.links(grudge) | grudges.links(added))
        if len(stages) > 1:
            described = {"parameters": {"grudge": value, "escalate_after_s": self.settings.escalate_after_s}}
        return {"nodes": [node.name for node in self.held], "action": self.kind.start.name, **described,
                "grudge": {node: sorted(dropped) for node, dropped in sorted(grudge.items())}}

    def _cut(self, links: set[grudges.Link]) -> None:
        """Drops `links` with rules on the fewest nodes (those this fault already holds or no fault does first)."""
        free = {node.name for node in (*self.claims.free(list(self.deployment.nodes)), *self.held)}
        held = grudges.cover(grudges.from_links(links), preferred=free)
        self._plan = {name: ([self.deployment.node(sender) for sender, receiver in sorted(links) if receiver == name],
                             [self.deployment.node(receiver) for sender, receiver in sorted(links) if sender == name])
                      for name, links in held.items()}
        nodes = [self.deployment.node(name) for name in sorted(held)]
        for node in nodes:
            if node not in self.held:
                self._free(node)
        for node in nodes:
            self._start_on(node)

    def _grudge(self, value: Any) -> tuple[Grudge, dict[str, Any]]:
        """The grudge a target names, and how the history describes it beside the grudge itself."""
        names = [node.name for node in self.deployment.nodes]
        shaped = isinstance(value, str) and is_partition_target(value)
        if shaped and grudges.is_explicit(value):
            clauses = [([node.name for term in clause.droppers for node in self._resolve(term)],
                        [node.name for term in clause.senders for node in self._resolve(term)])
                       for clause in grudges.parse_explicit(value)]
            return _nonempty(grudges.explicit(clauses), value), {"parameters": {"grudge": value}}
        if shaped:
            shape = (grudges.primaries([node.name for node in self.locator.partition_leaders()])
                     if value == PRIMARIES else grudges.SHAPES[value])
            return shape(names, self.rng), {"parameters": {"shape": value}}
        group = [node.name for node in self.targets(value)]
        outside = [name for name in names if name not in group]
        if not outside:
            raise NemesisError(f"{', '.join(group)} is the whole cluster: there is nothing to cut it off from")
        return grudges.cut_off([group], names), {"cut_off_from": outside}

    def _resolve(self, term: str) -> list[Node]:
        """A term of an explicit grudge: a node's name, a role group, a role holder, or primaries."""
        if term in ROLE_GROUPS:
            return [node for node in self.deployment.nodes if node.role == ROLE_GROUPS[term]]
        if term in ROLE_HOLDERS:
            return [self.locator.find(term)]
        if term == PRIMARIES:
            return self.locator.partition_leaders()
        named = [node for node in self.deployment.nodes if node.name == term]
        if not named:
            raise GrudgeError(f"grudge term {term!r} is no node of this deployment "
                              f"({', '.join(node.name for node in self.deployment.nodes)}) nor a group or role")
        return named

    def _drop(self, node: Node) -> None:
        inbound_from, outbound_to = self._plan[node.name]
        node.drop_packets(inbound_from, outbound_to)


def _nonempty(grudge: Grudge, text: str) -> Grudge:
    if not grudge:
        raise GrudgeError(f"grudge {text!r} drops nothing: every node it names only holds a grudge against itself")
    return grudge
