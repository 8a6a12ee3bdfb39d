"""Which proxy carries which link of a proxied cluster: a pure plan, made before anything runs.

A proxied cluster (ClusterSpec.proxied) reaches every node only through a proxy per node and link,
all served by one Toxiproxy-compatible server of the run (proxy_server.py). A proxy is named
`<node>-<link>` and forwards to one listening port of its node, so a toxic on it acts on the traffic
*to that node* over that link, from whichever node or client sends it (per destination):

- client: clients on the host → a broker's CLIENT listener, or a keeper's client port;
- replication: brokers → a broker's REPLICATION listener (the inter-broker listener: replica fetches
  from that broker as leader, and the controller's requests to it);
- keeper: brokers → a keeper's client port (the brokers' zookeeper.connect names these proxies);
- quorum: keepers → a keeper's peer port (`<node>-quorum`) and election port (`<node>-quorum-election`).

Kafka advertises one address per listener, so a broker's replication proxy is shared by all its
fetchers: per-source faults are not possible there, and the plan offers none anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cluster.deploy.node import (BROKER_PORT, KEEPER_CLIENT_PORT, KEEPER_ELECTION_PORT, KEEPER_PEER_PORT,
                                 REPLICATION_PORT, NodePlan)

LINKS = ("client", "replication", "keeper", "quorum")
BROKER_LINKS = ("client", "replication")
KEEPER_LINKS = ("client", "keeper", "quorum")


@dataclass(frozen=True)
class Route:
    """One proxy: `listen` on the proxy host forwards to `upstream`, node's port for link."""

    name: str
    node: str
    link: str
    listen: str
    upstream: str

    def as_proxy(self) -> dict[str, object]:
        """The proxy as Toxiproxy's POST /populate takes it."""
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": True}


def _targets(node: NodePlan) -> list[tuple[str, str, int]]:
    """(proxy name suffix, link, node port) of every proxy in front of the node."""
    if node.role == "broker":
        return [("client", "client", BROKER_PORT), ("replication", "replication", REPLICATION_PORT)]
    return [("client", "client", KEEPER_CLIENT_PORT), ("keeper", "keeper", KEEPER_CLIENT_PORT),
            ("quorum", "quorum", KEEPER_PEER_PORT), ("quorum-election", "quorum", KEEPER_ELECTION_PORT)]


@dataclass(frozen=True)
class ProxyRoutes:
    api: str
    """Where the proxy server's HTTP API listens: host:port on the proxy host, which the harness and every node reach."""
    routes: tuple[Route, ...]

    @classmethod
    def plan(cls, host: str, nodes: Sequence[NodePlan], ports: Iterator[int]) -> ProxyRoutes:
        """The API on the first port `ports` yields, then a proxy per node and link, each on the next."""
        api = f"{host}:{next(ports)}"
        routes = [Route(f"{node.name}-{suffix}", node.name, link, f"{host}:{next(ports)}", f"{node.host}:{port}")
                  for node in nodes for suffix, link, port in _targets(node)]
        return cls(api, tuple(routes))

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(f"no proxy {name!r} in this plan")

    def of(self, node: str, links: Sequence[str] = LINKS) -> list[Route]:
        """The node's proxies for the given links (those of them it has)."""
        return [route for route in self.routes if route.node == node and route.link in links]

    def listen(self, node: str, suffix: str) -> str:
        """Where the `<node>-<suffix>` proxy listens, e.g. listen("b1", "client")."""
        return self.route(f"{node}-{suffix}").listen
