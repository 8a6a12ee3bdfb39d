"""The files nodes are started with: server.properties for brokers, zoo.cfg for keepers.

Both backends write the same files; only the addresses and the data directory differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cluster.deploy.node import KEEPER_ELECTION_PORT, KEEPER_PEER_PORT, NodePlan


def keeper_connect(keepers: Sequence[NodePlan]) -> str:
    return ",".join(f"{keeper.host}:{keeper.port}" for keeper in keepers)


def broker_properties(broker: NodePlan, keepers: Sequence[NodePlan], brokers: int, data_dir: str,
                      overrides: Mapping[str, str]) -> str:
    """Kafka's names; the broker advertises the address clients on the host reach it at."""
    listener = f"PLAINTEXT://{broker.host}:{broker.port}"
    values = {
        "broker.id": str(broker.node_id),
        "listeners": listener,
        "advertised.listeners": listener,
        "log.dirs": data_dir,
        "offsets.topic.replication.factor": str(min(3, brokers)),
    }
    if keepers:
        values["zookeeper.connect"] = keeper_connect(keepers)
    return _render({**values, **overrides})


def zoo_cfg(keeper: NodePlan, keepers: Sequence[NodePlan], data_dir: str, overrides: Mapping[str, str]) -> str:
    """zoo.cfg's names (Apache ZooKeeper reads it too), with a server.N line per ensemble member; the client port is
    bound to the node's own address. A short tick keeps session expiry, and so broker failover, within seconds."""
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
        values[f"server.{member.node_id}"] = f"{member.host}:{KEEPER_PEER_PORT}:{KEEPER_ELECTION_PORT}"
    return _render({**values, **overrides})


def _render(values: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())
