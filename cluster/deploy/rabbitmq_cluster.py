"""The RabbitMQ side of a deployment: one Erlang cookie per run, the run's epmd, and joining nodes into one cluster.

Nodes boot as separate clusters of one; once all of them serve, every node but the first leaves
its own (stop_app), joins the first's with `rabbitmqctl join_cluster` and starts again, as
RabbitMQ's clustering guide does it. Membership is then asked of the first node: a deployment is
up only once every node runs in one cluster. A node restarted later (after a kill) rejoins by
itself, from what its data directory remembers.

On the local backend every node shares the host's network namespace, so the run starts one epmd
of its own on a private port, outside every node's cgroup (a name service, as DNS is; a partition
still cuts a node's lookups, which go to the peer's own address), and ends it when the cluster goes.
In a container, each node's VM starts the container's own epmd on the usual port.
"""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import Sequence

from cluster.deploy.backend import DeployError
from cluster.deploy.node import AMQP_PORT, DATA_DIR, Node, NodePlan
from cluster.deploy.node_process import NodeProcess
from cluster.deploy.ports import free_port
from cluster.deploy.probes import accepts_connections
from cluster.deploy.rabbitmq import (DIST_PORT, EPMD_LOG, EPMD_PORT, NET_TICKTIME_S, NodeIdentity, config_text,
                                     ctl_command, epmd_command, members)

CTL_TIMEOUT_S = 60
MIRRORING_POLICY = ("set_policy", "--apply-to", "queues", "ha-all", ".*",
                    '{"ha-mode": "all", "ha-sync-mode": "automatic"}')
"""Classic queue mirroring as RabbitMQ 3.10 still has it: every queue mirrored on every node, new mirrors synced."""
"""How long one rabbitmqctl step of forming the cluster may take."""
EPMD_START_S = 10.0


class RabbitCluster:
    def __init__(self, backend: str, partition_handling: str, work_dir: Path, mirroring: bool = False,
                 net_ticktime: int = NET_TICKTIME_S) -> None:
        self.config = config_text(partition_handling, net_ticktime)
        self.mirroring = mirroring
        self.cookie = secrets.token_hex(16).upper()
        self.local = backend == "local"
        self.epmd_port = free_port() if self.local else EPMD_PORT
        self._dist_ports: dict[str, int] = {}
        """Each node's distribution port on the local backend: RabbitMQ checks it is free on every address."""
        self._epmd = NodeProcess(work_dir / EPMD_LOG, cwd=work_dir) if backend == "local" else None
        """The run's own epmd on the local backend; None in containers, where each node has its own."""

    @staticmethod
    def ports() -> tuple[int, ...]:
        """The fixed ports every node listens on, at its own address."""
        return (AMQP_PORT,)

    def identity(self, plan: NodePlan) -> NodeIdentity:
        if self.local and plan.name not in self._dist_ports:
            self._dist_ports[plan.name] = free_port()
        dist_port = self._dist_ports.get(plan.name, DIST_PORT)
        return NodeIdentity(f"rabbit-{plan.name}", plan.host, self.cookie, self.epmd_port, dist_port=dist_port)

    def write_node(self, plan: NodePlan, directory: Path) -> None:
        """The node's rabbitmq.conf and identity, which its launcher (rabbitmq_node.py) starts it from."""
        (directory / plan.config_name).write_text(self.config)
        self.identity(plan).save(directory)

    def start(self) -> None:
        """The run's epmd, listening before any node looks for it (a node would otherwise start one of its own)."""
        if self._epmd is None or self._epmd.is_running():
            return
        self._epmd.start(epmd_command(self.epmd_port))
        deadline = time.monotonic() + EPMD_START_S
        while not accepts_connections("127.0.0.1", self.epmd_port):
            if not self._epmd.is_running() or time.monotonic() > deadline:
                raise DeployError(f"epmd did not listen on port {self.epmd_port}:\n{self._epmd.log_text()[-2000:]}")
            time.sleep(0.05)

    def form(self, nodes: Sequence[Node]) -> None:
        """Join every node to the first one's cluster, check that all of them run in it, and set the mirroring
        policy if the cluster has one (a policy is the cluster's: set once, on any node)."""
        first = self.identity(nodes[0].plan).node_name
        for node in nodes[1:]:
            for step in (("stop_app",), ("join_cluster", first), ("start_app",)):
                self.ctl(node, *step)
        expected = {self.identity(node.plan).node_name for node in nodes}
        running = self.running_members(nodes[0])
        if running != expected:
            raise DeployError(f"RabbitMQ cluster formed with {sorted(running)} running, not {sorted(expected)}")
        if self.mirroring:
            self.ctl(nodes[0], *MIRRORING_POLICY)

    def running_members(self, node: Node) -> set[str]:
        """The node names `node` sees running in its cluster."""
        return members(self.ctl(node, "cluster_status", "--formatter", "json"))[1]

    def ctl(self, node: Node, *args: str) -> str:
        """rabbitmqctl against `node`, run where its peers run it (its cgroup, its container); its output."""
        code, output = node.exec(ctl_command(self.identity(node.plan), "--timeout", str(CTL_TIMEOUT_S), *args))
        if code != 0:
            raise DeployError(f"rabbitmqctl {' '.join(args)} on {node.name} failed (exit {code}):\n{output.strip()}"
                              f"\n{node.name}'s log ends:\n{node.log_tail()}")
        return output

    def release(self, nodes: Sequence[Node]) -> None:
        """Once the nodes are stopped: the run's epmd ends, and the nodes' data, logs and cookies go."""
        if self._epmd is not None:
            self._epmd.stop(timeout=10)
        for node in nodes:
            for name in (DATA_DIR, "log", "home"):
                shutil.rmtree(node.directory / name, ignore_errors=True)
