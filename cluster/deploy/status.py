"""What a cluster is doing right now, for people: its nodes (up or down), the controller, the live
brokers, and each partition's leader and ISR.

`logquake cluster status` prints it for the cluster `logquake cluster up` left in a work
directory (its record names the nodes and keepers), or, given `--zookeeper`, for any cluster's
control plane. Reading changes nothing in keeper.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from cluster.broker.controller.view import ClusterView
from cluster.broker.controller.watcher import ClusterWatcher
from cluster.broker.metadata.partition_state import NO_LEADER
from cluster.deploy.node import NodePlan
from cluster.deploy.probes import accepts_connections, keeper_mode
from cluster.deploy.rabbitmq import NodeIdentity, RabbitMQError, ctl_command, members
from cluster.deploy.record import DEFAULT_WORK_DIR, ClusterRecord, RecordError


def read_view(zookeeper_connect: str, timeout_s: float = 15.0) -> ClusterView:
    client = KazooClient(hosts=zookeeper_connect, timeout=timeout_s)
    client.start(timeout=timeout_s)
    try:
        watcher = ClusterWatcher(client)
        watcher.start()
        watcher.stop()
        return watcher.view
    finally:
        client.stop()
        client.close()


def describe(view: ClusterView) -> list[str]:
    controller = "none" if view.controller is None else f"broker {view.controller}"
    lines = [f"controller: {controller} (controller epoch {view.controller_epoch})", "brokers:"]
    for broker_id, registration in sorted(view.brokers.items()):
        shutting = " (controlled shutdown)" if broker_id in view.shutting_down else ""
        lines.append(f"  {broker_id}  {registration.describe()}{shutting}")
    rows = [["topic", "partition", "leader", "epoch", "replicas", "isr", "offline"]]
    for topic, info in sorted(view.topics.items()):
        for partition, replicas in sorted(info.assignment.items()):
            state = view.states.get((topic, partition))
            offline = [replica for replica in replicas if replica not in view.live]
            if state is None:
                rows.append([topic, str(partition), "-", "-", _ids(replicas), "-", _ids(offline)])
            else:
                leader = "none" if state.leader == NO_LEADER else str(state.leader)
                rows.append([topic, str(partition), leader, str(state.leader_epoch), _ids(replicas), _ids(state.isr),
                             _ids(offline)])
    lines += _aligned(rows) if len(rows) > 1 else ["topics: none"]
    lines += [f"deletion pending: {topic}" for topic in sorted(view.deleting)]
    return lines


def describe_nodes(nodes: tuple[NodePlan, ...]) -> list[str]:
    """One row per node, asked from outside: a keeper's mode from `srvr`, a broker's listener accepting."""
    rows = [["node", "role", "id", "address", "state"]]
    for node in nodes:
        role = f"keeper ({node.kind})" if node.role == "keeper" and node.kind != "keeper" else node.role
        role = "rabbitmq" if node.runs_rabbitmq else role
        rows.append([node.name, role, str(node.node_id), f"{node.host}:{node.port}", _node_state(node)])
    return _aligned(rows)


def _node_state(node: NodePlan) -> str:
    if node.role == "keeper":
        mode = keeper_mode(node.host, node.port)
        return f"up ({mode})" if mode else "down"
    return "up" if accepts_connections(node.host, node.port) else "down"


def rabbitmq_members(work_dir: Path, nodes: tuple[NodePlan, ...]) -> list[str]:
    """Each RabbitMQ node's view of its cluster's running members, asked with rabbitmqctl from this host."""
    lines = []
    for node in nodes:
        identity = NodeIdentity.load(work_dir / node.name)
        result = subprocess.run(ctl_command(identity, "--timeout", "10", "cluster_status", "--formatter", "json"),
                                capture_output=True, text=True, check=False)
        try:
            running = sorted(members(result.stdout)[1])
        except RabbitMQError:
            lines.append(f"{node.name}: cannot tell (rabbitmqctl exit {result.returncode})")
            continue
        lines.append(f"{node.name} sees running: {', '.join(running)}")
    return lines


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _ids(brokers: tuple[int, ...] | list[int]) -> str:
    return ",".join(map(str, brokers)) or "-"


@click.command("status")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"The work directory of a `logquake cluster up` (default {DEFAULT_WORK_DIR} unless --zookeeper "
                   f"is given): its nodes are listed, and its keepers asked.")
@click.option("--zookeeper", "zookeeper_connect", default=None,
              help="As zookeeper.connect: host:port[,...][/chroot]; default: the work directory's keepers.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=15.0, show_default=True,
              help="Seconds to wait for keeper.")
def status_command(work_dir: Path | None, zookeeper_connect: str | None, timeout_s: float) -> None:
    """Show the nodes, the controller, live brokers, and every partition's leader, ISR and offline replicas."""
    if work_dir is not None or zookeeper_connect is None:
        try:
            record = ClusterRecord.load(work_dir or DEFAULT_WORK_DIR)
        except RecordError as error:
            raise click.ClickException(f"{error}; or name the keepers with --zookeeper") from None
        click.echo(f"nodes ({record.backend}, run {record.run_id}):")
        for line in describe_nodes(record.nodes):
            click.echo(f"  {line}")
        zookeeper_connect = zookeeper_connect or record.keeper_connect
        if any(node.runs_rabbitmq for node in record.nodes):
            for line in rabbitmq_members(work_dir or DEFAULT_WORK_DIR, record.nodes):
                click.echo(line)
            return
        if not zookeeper_connect:
            click.echo("no keepers: each broker is a cluster of its own, with no controller")
            return
    try:
        view = read_view(zookeeper_connect, timeout_s)
    except (KazooException, KazooTimeoutError) as error:
        click.echo(f"cannot read the cluster from {zookeeper_connect}: {error!r}", err=True)
        sys.exit(1)
    for line in describe(view):
        click.echo(line)


if __name__ == "__main__":
    status_command()
