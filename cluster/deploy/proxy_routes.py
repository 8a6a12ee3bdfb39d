"""Which proxy carries which link of a proxied cluster: a pure plan, made before anything runs.

A proxied cluster (ClusterSpec.proxied) reaches every node only through proxies, all served by one
Toxiproxy-compatible server of the run (proxy_server.py). Each proxy forwards to one listening port of
one node (its destination) and, where the sender's config names the address it dials, carries the
traffic of one sender only (its source):

- client: clients on the host → a broker's CLIENT listener, or a keeper's client port: `<node>-client`;
- replication: brokers → a broker's REPLICATION listener (the inter-broker listener: replica fetches
  from that broker as leader, the controller's requests to it): `<node>-replication`, from every broker,
  since Kafka advertises one address per listener to all;
- keeper: a broker → a keeper's client port, its zookeeper.connect: `<keeper>-keeper-from-<broker>`;
- quorum: a keeper → a peer's peer and election ports, its zoo.cfg's server.N lines:
  `<peer>-quorum-from-<keeper>` and `<peer>-quorum-election-from-<keeper>`.

So a toxic can act on what a node receives over a link (every link, per destination) and, on the keeper
and quorum links, on what it sends (per source).
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
    """One proxy: `listen` on the proxy host forwards to `upstream`, node's port for link; only `source` dials it,
    or anyone when source is None."""

    name: str
    node: str
    link: str
    listen: str
    upstream: str
    source: str | None = None

    def as_proxy(self) -> dict[str, object]:
        """The proxy as Toxiproxy's POST /populate takes it."""
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": True}


def _targets(node: NodePlan, nodes: Sequence[NodePlan]) -> list[tuple[str, str, int, str | None]]:
    """(proxy name suffix, link, node port, source) of every proxy in front of the node."""
    if node.role == "broker":
        return [("client", "client", BROKER_PORT, None), ("replication", "replication", REPLICATION_PORT, None)]
    targets: list[tuple[str, str, int, str | None]] = [("client", "client", KEEPER_CLIENT_PORT, None)]
    for source in nodes:
        if source.role == "broker":
            targets.append((f"keeper-from-{source.name}", "keeper", KEEPER_CLIENT_PORT, source.name))
        elif source != node:
            targets += [(f"quorum-from-{source.name}", "quorum", KEEPER_PEER_PORT, source.name),
                        (f"quorum-election-from-{source.name}", "quorum", KEEPER_ELECTION_PORT, source.name)]
    return targets


@dataclass(frozen=True)
class ProxyRoutes:
    api: str
    """Where the proxy server's HTTP API listens: host:port on the proxy host, which the harness and every node reach."""
    routes: tuple[Route, ...]

    @classmethod
    def plan(cls, host: str, nodes: Sequence[NodePlan], ports: Iterator[int]) -> ProxyRoutes:
        """The API on the first port `ports` yields, then a proxy per node and link, each on the next."""
        api = f"{host}:{next(ports)}"
        routes = [Route(f"{node.name}-{suffix}", node.name, link, f"{host}:{next(ports)}", f"{node.host}:{port}", source)
                  for node in nodes for suffix, link, port, source in _targets(node, nodes)]
        return cls(api, tuple(routes))

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(f"no proxy {name!r} in this plan")

    def of(self, node: str, links: Sequence[str] = LINKS) -> list[Route]:
        """The proxies in front of the node, for the given links (those of them it has)."""
        return [route for route in self.routes if route.node == node and route.link in links]

    def sent_by(self, node: str, links: Sequence[str] = LINKS) -> list[Route]:
        """The proxies only the node dials, for the given links (keeper and quorum have them)."""
        return [route for route in self.routes if route.source == node and route.link in links]

    def listen(self, node: str, suffix: str) -> str:
        """Where the `<node>-<suffix>` proxy listens, e.g. listen("b1", "client"), listen("k2", "keeper-from-b1")."""
        return self.route(f"{node}-{suffix}").listen
