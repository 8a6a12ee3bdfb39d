"""What the control plane says right now, for people: controller, brokers, and each partition's leader and ISR.

`python -m cluster.broker.controller.status --zookeeper host:port[/chroot]` prints it;
`logquake cluster status` is meant to show the same lines. Reading changes nothing
in keeper.
"""

from __future__ import annotations

import sys

import click
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from cluster.broker.controller.partition_state import NO_LEADER
from cluster.broker.controller.view import ClusterView
from cluster.broker.controller.watcher import ClusterWatcher


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
        lines.append(f"  {broker_id}  {registration.endpoint}{shutting}")
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
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines += [f"deletion pending: {topic}" for topic in sorted(view.deleting)]
    return lines


def _ids(brokers: tuple[int, ...] | list[int]) -> str:
    return ",".join(map(str, brokers)) or "-"


@click.command("status")
@click.option("--zookeeper", "zookeeper_connect", required=True, help="As zookeeper.connect: host:port[,...][/chroot]")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=15.0, show_default=True,
              help="Seconds to wait for keeper.")
def controller_status_command(zookeeper_connect: str, timeout_s: float) -> None:
    """Show the controller, live brokers, and every partition's leader, ISR and offline replicas."""
    try:
        view = read_view(zookeeper_connect, timeout_s)
    except (KazooException, KazooTimeoutError) as error:
        click.echo(f"cannot read the cluster from {zookeeper_connect}: {error!r}", err=True)
        sys.exit(1)
    for line in describe(view):
        click.echo(line)


if __name__ == "__main__":
    controller_status_command()
