"""A cluster of keepers and brokers brought up for one run, on the docker or the local backend.

`deploy()` plans the nodes (names, ids, addresses), writes their config files into per-node
directories under the work directory and hands them to a backend; `Deployment.up()` starts the
keepers, waits until they serve, then the brokers; `down()` stops and removes everything, even after
errors, collecting every node's log first. With `fault_disks` every node's data directory is on a
fault filesystem of its own (fault_disks.py), mounted before anything is written into it and
unmounted once the nodes are stopped and gone. With `clocks` every node process runs with its wall
clock under a control file of the node's own (node_clocks.py), removed when the cluster is. With
`proxied` every node is reached only through its proxies (proxy_routes.py), served by the run's proxy
server (proxy_server.py), which starts before the nodes and stops after them; `bootstrap_servers` and
`keeper_connect` then name the client proxies.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType

from cluster.deploy import configs
from cluster.deploy.backend import Backend, DeployError
from cluster.deploy.docker_backend import DockerBackend
from cluster.deploy.fault_disks import FaultDisks, remove_stale, require_fuse
from cluster.deploy.image import docker_unavailable
from cluster.deploy.local import LocalBackend
from cluster.deploy.node import DATA_DIR, KEEPER_KINDS, SYSTEMS, KeeperKind, Node, NodePlan, System
from cluster.deploy.node_clocks import NodeClocks
from cluster.deploy.ports import free_port, port_is_free
from cluster.deploy.proxy_routes import ProxyRoutes
from cluster.deploy.proxy_server import ProxyServer
from cluster.deploy.rabbitmq import NET_TICKTIME_S, PARTITION_HANDLING, net_ticktime_problem
from cluster.deploy.rabbitmq import unavailable_reason as rabbitmq_unavailable
from cluster.deploy.rabbitmq_cluster import RabbitCluster
from cluster.durable_file import write_atomically
from cluster.faultfs import STRICT

_log = logging.getLogger(__name__)

BACKENDS = ("docker", "local", "auto")


@dataclass(frozen=True)
class ClusterSpec:
    keepers: int
    brokers: int
    broker_overrides: dict[str, str] = field(default_factory=dict)
    keeper_overrides: dict[str, str] = field(default_factory=dict)
    keeper_kind: KeeperKind = "keeper"
    """What the keeper nodes run: our keeper, or Apache ZooKeeper on the same zoo.cfg."""
    fault_disks: bool = False
    """Every node's data directory on a fault filesystem (cluster.faultfs), for the disk nemeses."""
    fault_disk_entries: str = STRICT
    """When the fault disks make directory entries durable (cluster.faultfs.ENTRY_MODELS)."""
    proxied: bool = False
    """Every node reached only through its proxies (proxy_routes.py), for the proxy nemeses."""
    clocks: bool = False
    """Every node process's wall clock shifted through a control file of its node's (node_clocks.py), for the clock
    nemeses."""
    system: System = "logquake"
    """What the brokers run: ours (with keepers), or RabbitMQ (brokers only: RabbitMQ's nodes)."""
    partition_handling: str = "ignore"
    """A RabbitMQ cluster's cluster_partition_handling (RabbitMQ's default: ignore)."""
    queue_mirroring: bool = False
    """A RabbitMQ cluster's classic queues mirrored on every node (a policy of ha-mode all), once it has formed."""
    net_ticktime: int = NET_TICKTIME_S
    """A RabbitMQ cluster's net_ticktime: seconds of silence before a node declares a peer down."""

    def __post_init__(self) -> None:
        if self.brokers < 0 or self.keepers < 0:
            raise ValueError(f"brokers and keepers must be >= 0, got {self.brokers} and {self.keepers}")
        if self.brokers + self.keepers < 1:
            raise ValueError("a cluster needs at least one node")
        if self.keeper_kind not in KEEPER_KINDS:
            raise ValueError(f"keeper_kind must be one of {', '.join(KEEPER_KINDS)}, not {self.keeper_kind!r}")
        if self.system not in SYSTEMS:
            raise ValueError(f"system must be one of {', '.join(SYSTEMS)}, not {self.system!r}")
        if self.partition_handling not in PARTITION_HANDLING:
            raise ValueError(f"partition_handling must be one of {', '.join(PARTITION_HANDLING)}, "
                             f"not {self.partition_handling!r}")
        if (problem := net_ticktime_problem(self.net_ticktime)) is not None:
            raise ValueError(problem)
        if self.system == "rabbitmq" and (self.keepers or self.proxied):
            raise ValueError("a RabbitMQ cluster has no keepers and no proxies: its nodes are the brokers")
        if self.queue_mirroring and self.system != "rabbitmq":
            raise ValueError("queue mirroring is a policy of RabbitMQ clusters: it needs system rabbitmq")


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def deploy(spec: ClusterSpec, backend: str, work_dir: Path, run_id: str | None = None) -> Deployment:
    """Plan the cluster and write its config files (on fault filesystems, with fault_disks); no node runs until
    `up()`, only a proxied cluster's proxy server. Mounts left by harnesses that are gone are removed first,
    whatever the spec."""
    if spec.fault_disks:
        require_fuse()
    backend = resolve_backend(backend)
    if spec.system == "rabbitmq" and backend == "local" and (reason := rabbitmq_unavailable()) is not None:
        raise DeployError(f"cannot deploy RabbitMQ on the local backend: {reason}")
    remove_stale()
    run_id = run_id or new_run_id()
    disks = FaultDisks(run_id, spec.fault_disk_entries) if spec.fault_disks else None
    clocks = NodeClocks() if spec.clocks else None
    chosen = _backend(backend, run_id)
    deployment = Deployment(chosen, [], run_id, work_dir, disks, clocks)
    if spec.system == "rabbitmq":
        deployment.rabbitmq = RabbitCluster(chosen.name, spec.partition_handling, work_dir, spec.queue_mirroring,
                                            spec.net_ticktime)
    try:
        deployment.nodes = _create_nodes(spec, chosen, work_dir, disks, clocks, deployment)
    except BaseException:
        _undo(deployment)
        raise
    return deployment


def _create_nodes(spec: ClusterSpec, backend: Backend, work_dir: Path, disks: FaultDisks | None,
                  clocks: NodeClocks | None, deployment: Deployment) -> list[Node]:
    rabbitmq = deployment.rabbitmq
    hosts = backend.hosts(spec.keepers + spec.brokers, rabbitmq.ports() if rabbitmq else None)
    keepers = [NodePlan(f"k{i}", "keeper", i, hosts[i - 1], spec.keeper_kind) for i in range(1, spec.keepers + 1)]
    brokers = [NodePlan(f"b{i}", "broker", i, hosts[spec.keepers + i - 1], system=spec.system)
               for i in range(1, spec.brokers + 1)]
    routes = None
    if spec.proxied:
        host = backend.proxy_host()
        routes = ProxyRoutes.plan(host, keepers + brokers, _free_ports(host))
        deployment.proxies = ProxyServer(routes, work_dir)
        deployment.proxies.start()
    nodes = []
    for plan in keepers + brokers:
        directory = work_dir / plan.name
        (directory / DATA_DIR).mkdir(parents=True, exist_ok=True)
        disk = disks.mount(plan.name, directory) if disks is not None else None
        data_dir = backend.node_path(directory, DATA_DIR)
        if rabbitmq is not None:
            rabbitmq.write_node(plan, directory)
        elif plan.role == "keeper":
            # durable, as an installed node's myid is: a simulated power loss must not take it
            write_atomically(directory / DATA_DIR / "myid", f"{plan.node_id}\n".encode())
            (directory / plan.config_name).write_text(configs.zoo_cfg(plan, keepers, data_dir, spec.keeper_overrides,
                                                                      routes))
        else:
            text = configs.broker_properties(plan, keepers, spec.brokers, data_dir, spec.broker_overrides, routes)
            (directory / plan.config_name).write_text(text)
        clock, environment = clocks.prepare(directory, partial(backend.node_path, directory)) if clocks else (None, {})
        node = backend.create(plan, directory, environment)
        node.disk = disk
        node.clock = clock
        nodes.append(node)
    return nodes


def _free_ports(host: str) -> Iterator[int]:
    """Ports for the proxy server on the proxy host: from this process's claimed blocks (ports.py), since the local
    backend's first block has 127.0.0.1 as its proxy host, and free on that host too."""
    return (port for port in iter(free_port, None) if port_is_free(host, port))


def resolve_backend(backend: str) -> str:
    """'auto' is docker when an engine answers, local otherwise; the choice is logged."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    reason = docker_unavailable()
    chosen = "local" if reason else "docker"
    _log.info("backend auto: %s", f"local ({reason})" if reason else "docker (the engine answers)")
    return chosen


def _backend(name: str, run_id: str) -> Backend:
    return DockerBackend(run_id) if name == "docker" else LocalBackend(run_id)


class Deployment:
    def __init__(self, backend: Backend, nodes: list[Node], run_id: str, work_dir: Path,
                 disks: FaultDisks | None = None, clocks: NodeClocks | None = None) -> None:
        self._backend = backend
        self._disks = disks
        self._clocks = clocks
        self.nodes = nodes
        self.run_id = run_id
        self.work_dir = work_dir
        self.proxies: ProxyServer | None = None
        """The run's proxy server and its proxies, in a proxied deployment."""
        self.rabbitmq: RabbitCluster | None = None
        """What a RabbitMQ deployment shares between its nodes (cookie, epmd) and how they join one cluster."""

    @property
    def backend(self) -> str:
        return self._backend.name

    @property
    def keepers(self) -> list[Node]:
        return [node for node in self.nodes if node.role == "keeper"]

    @property
    def brokers(self) -> list[Node]:
        return [node for node in self.nodes if node.role == "broker"]

    @property
    def bootstrap_servers(self) -> str:
        """Where clients reach the brokers: their addresses, or their client proxies."""
        if self.proxies is not None:
            return ",".join(self.proxies.routes.listen(broker.name, "client") for broker in self.brokers)
        return ",".join(broker.address for broker in self.brokers)

    @property
    def keeper_connect(self) -> str:
        routes = self.proxies.routes if self.proxies is not None else None
        return configs.keeper_connect([keeper.plan for keeper in self.keepers], routes)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in this deployment ({', '.join(n.name for n in self.nodes)})")

    def up(self, timeout: float = 90) -> Deployment:
        """Keepers first (all of them, so that they can form a quorum), then brokers; each role waits until it serves.
        RabbitMQ's nodes then join one cluster."""
        if self.rabbitmq is not None:
            self.rabbitmq.start()
        for group in (self.keepers, self.brokers):
            for node in group:
                node.start()
            for node in group:
                node.wait_serving(timeout)
        if self.rabbitmq is not None:
            self.rabbitmq.form(self.brokers)
        _log.info("cluster up on %s: brokers %s, keepers %s", self.backend, self.bootstrap_servers,
                  self.keeper_connect or "none")
        return self

    def down(self, logs_to: Path | None = None) -> None:
        """Stop every node (its packet faults first), collect its log, remove everything (clock controls once no node
        process is left to read them); every step is tried even when one fails.

        Fault filesystems go last: no node process, and no container holding a view of a mount, is left then.
        """
        errors: list[str] = []
        for node in reversed(self.nodes):
            _attempt(errors, f"ending {node.name}'s packet faults", node.restore_packets)
            _attempt(errors, f"stopping {node.name}", partial(node.stop, timeout=10))
            if logs_to is not None:
                _attempt(errors, f"collecting {node.name}'s log", partial(node.collect_logs, logs_to))
        if self.proxies is not None:
            _attempt(errors, "stopping the proxy server", self.proxies.stop)
        _attempt(errors, f"releasing the {self.backend} backend", self._backend.release)
        if self.rabbitmq is not None:
            _attempt(errors, "removing RabbitMQ's epmd and node data", partial(self.rabbitmq.release, self.nodes))
        if self._clocks is not None:
            _attempt(errors, "removing the nodes' clock controls", self._clocks.remove)
        for name, mount in self._disks or ():
            _attempt(errors, f"unmounting the fault filesystem of {name}", mount.unmount)
        if errors:
            raise DeployError("tearing the cluster down failed:\n" + "\n".join(errors))

    def __enter__(self) -> Deployment:
        try:
            return self.up()
        except BaseException:
            self.down()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.down()


def _undo(deployment: Deployment) -> None:
    """Removes what a failed deploy made; its own failures are logged, so that the deploy's error is the one raised."""
    try:
        deployment.down()
    except DeployError as error:
        _log.error("%s", error)


def _attempt(errors: list[str], what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as error:
        errors.append(f"{what}: {error}")
