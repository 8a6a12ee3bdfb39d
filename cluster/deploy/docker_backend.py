"""The docker backend: each node a container of the locally built node image, on a private network per run.

The network is an internal bridge (no NAT, no way out) with a subnet of its own, so every node
has a fixed address that survives restarts of its container. On Linux the host has a route to
the bridge, so clients on the host reach brokers at their container addresses; brokers advertise
exactly those. Containers run with an init (signals reach the node, zombies are reaped),
NET_ADMIN for iptables partitions, and SYS_ADMIN with /dev/fuse for FUSE. A node's directory on
the host (config and data) is bind-mounted at /node; bind mounts are recursive, so a fault
filesystem the host mounted on its data/ before the container started (fault_disks.py) is what the
node sees there, served by a daemon on the host. What a node's processes get in their environment
(the clock preload of node_clocks.py) is the container's, so every process in it has it, `exec`'s
too, as every program on a machine shares its clock. Everything the run creates is labelled with
its run id, which is how `down()` and cleanup find it again.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from cluster.deploy import image
from cluster.deploy.backend import Backend, DeployError
from cluster.deploy.node import Node, NodeError, NodePlan

_log = logging.getLogger(__name__)

RUN_LABEL = "logquake.run"
NODE_LABEL = "logquake.node"
NODE_MOUNT = "/node"
SUBNET_POOL = ipaddress.IPv4Network("10.213.0.0/16")
"""Where run networks get their /24s: private, and checked against routes and other networks first."""
FIRST_HOST = 10


class DockerNode(Node):
    def __init__(self, plan: NodePlan, directory: Path, container: Container) -> None:
        super().__init__(plan, directory)
        self.container = container

    def start(self) -> None:
        if self.is_running():
            raise NodeError(f"{self.name} is already running")
        self.container.start()

    def stop(self, timeout: float = 30) -> None:
        if self.is_paused():
            self.container.unpause()
        if self.is_running():
            self.container.stop(timeout=int(max(1, timeout)))
            self.container.wait(timeout=timeout + 30)

    def kill(self) -> None:
        if self.is_running():
            self.container.kill(signal="SIGKILL")
            self.container.wait(timeout=30)

    def pause(self) -> None:
        self._require("running", "pause")
        self.container.pause()

    def resume(self) -> None:
        self._require("paused", "resume")
        self.container.unpause()

    def is_running(self) -> bool:
        return self._status() in ("running", "paused")

    def is_paused(self) -> bool:
        return self._status() == "paused"

    def reconnect(self) -> None:
        """A stopped container's network namespace went away with its rules: only a running one has any."""
        if self.is_running():
            super().reconnect()

    @property
    def cannot_fault_packets(self) -> str | None:
        if shutil.which("nsenter") is None:
            return "packet faults on containers need nsenter (util-linux) on the host, to run the handler there"
        return super().cannot_fault_packets

    def namespace_prefix(self) -> list[str]:
        """nsenter into the container's network namespace, from the host: the node image needs no packet handler."""
        self.container.reload()
        pid = self.container.attrs["State"]["Pid"]
        if not pid:
            raise NodeError(f"{self.name} is not running: its network namespace is gone")
        return ["nsenter", "-t", str(pid), "-n"]

    def restore_packets(self) -> None:
        """A stopped container's namespace went away with its rules: only the handler may be left to end."""
        if self._packets is not None:
            self._packets.restore(rules=self.is_running())

    def exec(self, argv: list[str]) -> tuple[int, str]:
        result = self.container.exec_run(argv)
        return result.exit_code, result.output.decode(errors="replace")

    def log_text(self) -> str:
        return self.container.logs(stdout=True, stderr=True).decode(errors="replace")

    def _status(self) -> str:
        """Docker's state of the container; "removed" once down() took it away."""
        try:
            self.container.reload()
        except NotFound:
            return "removed"
        return self.container.status

    def _require(self, status: str, action: str) -> None:
        if self._status() != status:
            raise NodeError(f"cannot {action} {self.name}: it is {self._status()}")


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, run_id: str, client: docker.DockerClient | None = None) -> None:
        self.run_id = run_id
        self.client = client or docker.from_env()
        self.image = image.build(self.client, log=_log.info)
        self.network_name = f"logquake-{run_id}"
        self._gateway = ""

    def hosts(self, count: int, ports: Sequence[int] | None = None) -> list[str]:
        subnet = self._create_network()
        addresses = list(subnet.hosts())[FIRST_HOST:FIRST_HOST + count]
        return [str(address) for address in addresses]

    def proxy_host(self) -> str:
        """The run network's gateway: the host's own address on the bridge, which containers of the internal network
        reach (verified on docker 20.10) and which no other run's network shares."""
        assert self._gateway, "hosts() creates the network first"
        return self._gateway

    def node_path(self, node_directory: Path, relative: str) -> str:
        return f"{NODE_MOUNT}/{relative}"

    def create(self, plan: NodePlan, directory: Path, environment: Mapping[str, str] | None = None) -> Node:
        api = self.client.api
        host_config = api.create_host_config(
            binds={str(directory.resolve()): {"bind": NODE_MOUNT, "mode": "rw"}},
            cap_add=["NET_ADMIN", "SYS_ADMIN"], devices=["/dev/fuse:/dev/fuse:rwm"], init=True)
        endpoint = api.create_endpoint_config(ipv4_address=plan.host, aliases=[plan.name])
        created = api.create_container(
            self.image, command=["python", *plan.python_arguments(f"{NODE_MOUNT}/{plan.config_name}")],
            name=f"{self.network_name}-{plan.name}", hostname=plan.name, working_dir=NODE_MOUNT,
            labels={RUN_LABEL: self.run_id, NODE_LABEL: plan.name}, host_config=host_config,
            environment=dict(environment or {}),
            networking_config=api.create_networking_config({self.network_name: endpoint}))
        return DockerNode(plan, directory, self.client.containers.get(created["Id"]))

    def release(self) -> None:
        remove_runs(self.client, self.run_id)

    def _create_network(self) -> ipaddress.IPv4Network:
        taken = _networks_in_use(self.client)
        for subnet in SUBNET_POOL.subnets(new_prefix=24):
            if any(subnet.overlaps(other) for other in taken):
                continue
            gateway = str(next(subnet.hosts()))
            pool = docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)
            try:
                self.client.networks.create(self.network_name, driver="bridge", internal=True,
                                            labels={RUN_LABEL: self.run_id},
                                            ipam=docker.types.IPAMConfig(pool_configs=[pool]))
                self._gateway = gateway
                return subnet
            except APIError as error:
                if "overlap" not in str(error).lower():
                    raise
        raise DeployError(f"no free /24 left in {SUBNET_POOL} for the run's network")


def _networks_in_use(client: docker.DockerClient) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Subnets of docker networks and of the host's routes: a run network must not shadow any."""
    taken = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet"):
                taken.append(ipaddress.ip_network(config["Subnet"], strict=False))
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        destination, mask = (ipaddress.IPv4Address(bytes.fromhex(f)[::-1]) for f in (fields[1], fields[7]))
        if int(destination):
            taken.append(ipaddress.ip_network(f"{destination}/{mask}", strict=False))
    return taken


def remove_runs(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    """Remove the containers (with any anonymous volume) and networks of one run (or of every run): what `down()` and
    cleanup do."""
    label = f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL
    removed = []
    for container in client.containers.list(all=True, filters={"label": label}, ignore_removed=True):
        try:
            container.remove(force=True, v=True)
            removed.append(f"container {container.name}")
        except NotFound:
            pass
    for network in client.networks.list(filters={"label": label}):
        try:
            network.remove()
            removed.append(f"network {network.name}")
        except NotFound:
            pass
    return removed
