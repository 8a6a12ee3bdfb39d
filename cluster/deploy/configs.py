"""The files nodes are started with: server.properties for brokers, zoo.cfg for keepers.

Both backends write the same files; only the addresses and the data directory differ. In a proxied
cluster (proxy_routes.py) every address a node is told of another node is that node's proxy: brokers
advertise their proxies and reach the keepers through theirs, and each keeper's zoo.cfg lists its own
real address (where it binds) and its peers' proxies (where it dials): each node dials proxies of its own,
so that faults can single out what one node sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cluster.deploy.node import KEEPER_ELECTION_PORT, KEEPER_PEER_PORT, REPLICATION_PORT, NodePlan
from cluster.deploy.proxy_routes import ProxyRoutes

CLIENT_LISTENER = "CLIENT"
REPLICATION_LISTENER = "REPLICATION"


def keeper_connect(keepers: Sequence[NodePlan], routes: ProxyRoutes | None = None, broker: str | None = None) -> str:
    """The keepers' client ports, or (with routes) their proxies: the client ones, or those only `broker` dials."""
    if routes is None:
        return ",".join(f"{keeper.host}:{keeper.port}" for keeper in keepers)
    suffix = "client" if broker is None else f"keeper-from-{broker}"
    return ",".join(routes.listen(keeper.name, suffix) for keeper in keepers)


def broker_properties(broker: NodePlan, keepers: Sequence[NodePlan], brokers: int, data_dir: str,
                      overrides: Mapping[str, str], routes: ProxyRoutes | None = None) -> str:
    """Kafka's names; the broker advertises the address clients on the host reach it at (with routes: its proxies)."""
    values = {
        "broker.id": str(broker.node_id),
        **(_listeners(broker) if routes is None else _proxied_listeners(broker, routes)),
        "log.dirs": data_dir,
        "offsets.topic.replication.factor": str(min(3, brokers)),
    }
    if keepers:
        values["zookeeper.connect"] = keeper_connect(keepers, routes, broker.name)
    return _render({**values, **overrides})


def _listeners(broker: NodePlan) -> dict[str, str]:
    listener = f"PLAINTEXT://{broker.host}:{broker.port}"
    return {"listeners": listener, "advertised.listeners": listener}


def _proxied_listeners(broker: NodePlan, routes: ProxyRoutes) -> dict[str, str]:
    """Two listeners, each advertised as its proxy: clients come in on CLIENT, other brokers on REPLICATION."""
    client, replication = CLIENT_LISTENER, REPLICATION_LISTENER
    return {
        "listeners": f"{client}://{broker.host}:{broker.port},{replication}://{broker.host}:{REPLICATION_PORT}",
        "advertised.listeners": f"{client}://{routes.listen(broker.name, 'client')},"
                                f"{replication}://{routes.listen(broker.name, 'replication')}",
        "listener.security.protocol.map": f"{client}:PLAINTEXT,{replication}:PLAINTEXT",
        "inter.broker.listener.name": replication,
    }


def zoo_cfg(keeper: NodePlan, keepers: Sequence[NodePlan], data_dir: str, overrides: Mapping[str, str],
            routes: ProxyRoutes | None = None) -> str:
    """zoo.cfg's names (Apache ZooKeeper reads it too), with a server.N line per ensemble member; the client port is
    bound to the node's own address. A short tick keeps session expiry, and so broker failover, within seconds.
    With routes, a peer's server.N line names the quorum proxies this keeper dials it through; the keeper's own
    line stays where it binds."""
    values = {
        "tickTime": "500",
        "initLimit": "10",
        "syncLimit": "5",
        "dataDir": data_dir,
        "clientPort": str(keeper.port),
        "clientPortAddress": keeper.host,
        "4lw.commands.whitelist": "*",
        "admin.enableServer": "false",
    }
    for member in keepers:
        values[f"server.{member.node_id}"] = _server_line(member, keeper, routes)
    return _render({**values, **overrides})


def _server_line(member: NodePlan, keeper: NodePlan, routes: ProxyRoutes | None) -> str:
    if routes is None or member == keeper:
        return f"{member.host}:{KEEPER_PEER_PORT}:{KEEPER_ELECTION_PORT}"
    peer = routes.listen(member.name, f"quorum-from-{keeper.name}")
    election = routes.listen(member.name, f"quorum-election-from-{keeper.name}")
    return f"{peer}:{election.rsplit(':', 1)[1]}"


def _render(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())
