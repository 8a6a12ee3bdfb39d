"""Proxy faults: toxics on the proxies a proxied deployment reaches its nodes through (cluster/deploy/proxy_routes.py).

- latency (latency-ms, jitter-ms), bandwidth (rate-kb-per-s), slow-close (delay-ms): slow links;
- reset: every connection through the proxies is reset (Toxiproxy's reset_peer, after reset-after-ms);
- timeout: a black hole, data held until the fault stops (timeout-ms 0) or the connection closed after it;
- flaky: intermittent resets, a share (reset-probability) of the connections reset.

start-X puts the fault's toxic on each stream (option stream) of the target nodes' proxies of the
links chosen (option links: client, replication, keeper, quorum; all by default): by default (option
direction=to) the proxies in front of each target, so it acts on the links to the targets from every
source; with direction=from the proxies only the target dials (keeper and quorum links:
cluster/deploy/proxy_routes.py), so it acts on what the targets send; both takes the two. stop-X
removes exactly those toxics. Targets, claims and heal are the process faults' (process.py). The ok value is
{"nodes", "action", "parameters", "proxies"}: the settings and the proxies the toxics went on.
"""

from __future__ import annotations

from typing import Any

from cluster.deploy.proxy_routes import Route
from cluster.deploy.proxy_server import ProxyError, ProxyServer
from harness.seams import Deployment, Node
from nemesis.base import NemesisError
from nemesis.process import Action, Claims, FaultKind, ProcessFault
from nemesis.proxy_options import FAULTS, ProxyOptions

__all__ = ["FAULTS", "NOT_WITH_PROXIES", "ProxyFault"]

NOT_WITH_PROXIES = ("partition", "packet-loss", "packet-delay", "packet-duplicate", "packet-reorder", "packet-corrupt")
"""Faults whose iptables rules tell node traffic apart by the nodes' addresses or cgroups: in a proxied run that
traffic runs through the proxy server on the host instead, so those rules would never see it."""


class ProxyFault(ProcessFault):
    def __init__(self, name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 settings: ProxyOptions) -> None:
        kind = FaultKind(name, Action("add-toxics", self._poison), Action("remove-toxics", self._cure))
        super().__init__(kind, deployment, options, claims)
        if deployment.proxies is None:
            raise NemesisError(f"the {name} fault needs a deployment whose nodes are reached through proxies "
                               f"(ClusterSpec.proxied); this one is not")
        self.proxies: ProxyServer = deployment.proxies
        self.settings = settings
        self.toxic = settings.toxic(name)

    def _start(self, value: Any) -> dict[str, Any]:
        nodes = self.targets(value)
        routes = [route for node in nodes for route in self._routes(node)]
        if not routes:
            raise NemesisError(f"{', '.join(n.name for n in nodes)} has no proxy for the link(s) "
                               f"{', '.join(self.settings.links)} in direction {self.settings.direction}: "
                               f"to a broker go client and replication links, to a keeper client, keeper and "
                               f"quorum; from a broker go keeper links, from a keeper quorum links")
        done = super()._start([node.name for node in nodes])
        return {**done, "parameters": self.settings.parameters(self.kind.name),
                "proxies": [route.name for route in routes]}

    def _routes(self, node: Node) -> list[Route]:
        routes, links, direction = self.proxies.routes, self.settings.links, self.settings.direction
        to = routes.of(node.name, links) if direction in ("to", "both") else []
        sent = routes.sent_by(node.name, links) if direction in ("from", "both") else []
        return to + sent

    def _toxic_name(self, stream: str) -> str:
        return f"{self.kind.name}-{stream}"

    def _poison(self, node: Node) -> None:
        """All of the node's toxics or none: a node is held only once its start is done, so a failure undoes it."""
        try:
            for route in self._routes(node):
                for stream in self.settings.streams:
                    self.proxies.api.add_toxic(route.name, self._toxic_name(stream), self.toxic.kind, stream,
                                               self.toxic.toxicity, self.toxic.attributes)
        except ProxyError:
            self._cure(node)
            raise

    def _cure(self, node: Node) -> None:
        """Removes the fault's toxics that are there: a stop after a half-done start removes what it added."""
        ours = {self._toxic_name(stream) for stream in self.settings.streams}
        for route in self._routes(node):
            try:
                present = {toxic.get("name") for toxic in self.proxies.api.toxics(route.name)}
                for name in sorted(ours & present):
                    self.proxies.api.remove_toxic(route.name, name)
            except ProxyError as error:
                raise NemesisError(f"removing the {self.kind.name} toxics of {route.name} failed: {error}") from error
