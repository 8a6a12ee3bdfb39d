"""A node handle: one keeper or broker of a deployment, whatever runs it (a container or a process).

Nemeses and the runner only ever hold this interface, so a fault written once works on every backend.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from functools import partial
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Sequence

from cluster.deploy import netfilter, packet_rules
from cluster.deploy.packet_rules import NodePackets
from cluster.deploy.probes import accepts_connections, keeper_mode
from cluster.packets import process as packet_handlers
from cluster.packets.handling import PacketFault

if TYPE_CHECKING:
    from cluster.clock import ClockControl
    from cluster.faultfs import DiskControl

Role = Literal["keeper", "broker"]
KeeperKind = Literal["keeper", "zookeeper"]
KEEPER_KINDS: tuple[KeeperKind, ...] = ("keeper", "zookeeper")
System = Literal["logquake", "rabbitmq"]
SYSTEMS: tuple[System, ...] = ("logquake", "rabbitmq")
"""The systems under test: our Kafka-compatible cluster (brokers and keepers), or a RabbitMQ cluster (its nodes are
the deployment's brokers, so that every nemesis reaches them as it reaches ours)."""
ZOOKEEPER_MODULE = "cluster.deploy.zookeeper_node"
RABBITMQ_MODULE = "cluster.deploy.rabbitmq_node"

BROKER_PORT = 9092
REPLICATION_PORT = 9093
"""A proxied cluster's brokers serve other brokers on this second listener (REPLICATION), clients on BROKER_PORT."""
KEEPER_CLIENT_PORT = 2181
KEEPER_PEER_PORT = 2888
KEEPER_ELECTION_PORT = 3888
AMQP_PORT = 5672
DATA_DIR = "data"
"""The node's data directory under its own directory: the broker's log.dirs, the keeper's dataDir."""


class NodeError(RuntimeError):
    """A node did not do what it was told (did not start, serve or stop); the message carries its log tail."""


@dataclass(frozen=True)
class NodePlan:
    """Who a node is and where it listens, decided before anything runs."""

    name: str
    role: Role
    node_id: int
    """broker.id for a broker, myid for a keeper."""
    host: str
    kind: KeeperKind = "keeper"
    """What a keeper node runs (brokers ignore it): our keeper, or Apache ZooKeeper on the same zoo.cfg."""
    system: System = "logquake"
    """What a broker node runs: our broker, or a RabbitMQ node."""

    @property
    def runs_rabbitmq(self) -> bool:
        return self.role == "broker" and self.system == "rabbitmq"

    @property
    def port(self) -> int:
        if self.runs_rabbitmq:
            return AMQP_PORT
        return BROKER_PORT if self.role == "broker" else KEEPER_CLIENT_PORT

    @property
    def config_name(self) -> str:
        if self.runs_rabbitmq:
            return "rabbitmq.conf"
        return "server.properties" if self.role == "broker" else "zoo.cfg"

    def python_arguments(self, config_path: str) -> list[str]:
        """What follows `python` to run this node: `logquake broker`, keeper's own module (the `logquake keeper`
        command whether or not the CLI lists it), or the launchers that become Apache ZooKeeper or RabbitMQ."""
        if self.runs_rabbitmq:
            module = [RABBITMQ_MODULE]
        elif self.role == "broker":
            module = ["logquake", "broker"]
        else:
            module = [ZOOKEEPER_MODULE if self.kind == "zookeeper" else "cluster.keeper.main"]
        return ["-m", *module, "--config", config_path]


class Node(ABC):
    def __init__(self, plan: NodePlan, directory: Path) -> None:
        self.plan = plan
        self.directory = directory
        """The node's own directory on the host: its config file and data/."""
        self.disk: DiskControl | None = None
        """The control of the fault filesystem under data/, when the deployment mounted one (fault_disks)."""
        self.clock: ClockControl | None = None
        """The control of the node's wall clock, when the deployment preloads the clock shift (clocks)."""
        self._packets: NodePackets | None = None

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def role(self) -> Role:
        return self.plan.role

    @property
    def node_id(self) -> int:
        return self.plan.node_id

    @property
    def host(self) -> str:
        return self.plan.host

    @property
    def port(self) -> int:
        return self.plan.port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def data_directory(self) -> Path:
        """The node's data directory as the host sees it (a container sees it under /node)."""
        return self.directory / DATA_DIR

    @property
    def config_path(self) -> Path:
        return self.directory / self.plan.config_name

    @abstractmethod
    def start(self) -> None:
        """Start the node's process (again); returns without waiting for it to serve."""

    @abstractmethod
    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, the graceful path, then SIGKILL if it has not exited within timeout seconds."""

    @abstractmethod
    def kill(self) -> None:
        """SIGKILL: what a crash leaves behind."""

    @abstractmethod
    def pause(self) -> None:
        """Freeze every process of the node (it keeps its sockets; peers see silence)."""

    @abstractmethod
    def resume(self) -> None: ...

    @abstractmethod
    def is_running(self) -> bool:
        """True while the node's process exists, paused or not."""

    @abstractmethod
    def is_paused(self) -> bool: ...

    @abstractmethod
    def exec(self, argv: list[str]) -> tuple[int, str]:
        """Run a command in the node's network namespace: (exit code, stdout and stderr together)."""

    @abstractmethod
    def log_text(self) -> str:
        """Everything the node has written to stdout and stderr so far."""

    cannot_partition: str | None = None
    """Why this node cannot be cut off from its peers, or None when it can (see netfilter.py)."""
    partition_hooks: tuple[str, ...] = ("INPUT", "OUTPUT")

    @property
    def partition_chain(self) -> str:
        """The iptables chain, where exec() runs, that holds this node's partition rules."""
        return netfilter.CONTAINER_CHAIN

    def partition_drops(self, inbound_from: Sequence[Node], outbound_to: Sequence[Node]) -> list[netfilter.Rule]:
        """The rules that drop those packets: in a namespace of its own, packets are told apart by address."""
        return netfilter.address_drops(self.host, [peer.host for peer in inbound_from],
                                       [peer.host for peer in outbound_to])

    def drop_packets(self, inbound_from: Sequence[Node] = (), outbound_to: Sequence[Node] = ()) -> None:
        """Drop every packet this node receives from `inbound_from` and sends to `outbound_to`, until
        reconnect(): the same peers in both is a clean cut, one of them a one-way cut."""
        if self.cannot_partition:
            raise NodeError(f"{self.name} cannot be cut off from its peers: {self.cannot_partition}")
        command = netfilter.drop_command(self.partition_chain, self.partition_hooks, self.name,
                                         self.partition_drops(inbound_from, outbound_to))
        self._netfilter(command, "cutting off")

    def reconnect(self) -> None:
        """Remove this node's partition rules: it reaches and is reached by everyone again."""
        if self.cannot_partition:
            return
        code, listing = self.exec(netfilter.listing_command(self.partition_chain))
        if code != 0:
            if netfilter.chain_missing(listing):
                return
            raise NodeError(f"listing the partition rules of {self.name} failed (exit {code}): {listing.strip()}")
        command = netfilter.reconnect_command(self.partition_chain, self.name, listing)
        if command is not None:
            self._netfilter(command, "reconnecting")

    def _netfilter(self, command: list[str], doing: str) -> None:
        code, output = self.exec(command)
        if code != 0:
            raise NodeError(f"{doing} {self.name} with iptables failed (exit {code}): {output.strip()}")

    packet_hooks: tuple[str, ...] = ("INPUT", "OUTPUT")
    """Where the packets this node receives and sends pass, in the namespace exec() runs in."""

    @property
    def packet_chain(self) -> str:
        """The iptables chain, where exec() runs, that holds this node's packet-fault rules (packet_rules.py)."""
        return packet_rules.CONTAINER_CHAIN

    @property
    def cannot_fault_packets(self) -> str | None:
        """Why this node's packets cannot be dropped or handled, or None when they can."""
        return packet_handlers.unavailable_reason()

    def link_rules(self, inbound_from: Sequence[Node], outbound_to: Sequence[Node],
                   target: netfilter.Rule) -> list[netfilter.Rule]:
        """Rules giving `target` to what this node receives from `inbound_from` and sends to `outbound_to`: in a
        namespace of its own, by the peer's address."""
        return [("-s", peer.host, *target) for peer in inbound_from] + [("-d", peer.host, *target) for peer in outbound_to]

    def namespace_prefix(self) -> list[str]:
        """What runs a host command in this node's network namespace (nothing: the host's own)."""
        return []

    def lose_packets(self, peers: Sequence[Node], direction: str, probability: float) -> None:
        """Drop each of this node's packets from (or to) `peers` with `probability`, until restore_packets()."""
        self._packet_faults().drop(self._packet_rules(peers, direction), probability)

    def mangle_packets(self, peers: Sequence[Node], direction: str, fault: PacketFault, seed: int) -> None:
        """Pass this node's packets from (or to) `peers` through a packet handler applying `fault`, until
        restore_packets()."""
        self._packet_faults().queue(self._packet_rules(peers, direction), fault, seed, self.namespace_prefix())

    def restore_packets(self) -> None:
        """Remove this node's packet-fault rules and end its packet handler, if any."""
        if self._packets is not None:
            self._packets.restore()

    def _packet_rules(self, peers: Sequence[Node], direction: str) -> packet_rules.RulesFor:
        if direction not in packet_rules.DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}: choose one of {', '.join(packet_rules.DIRECTIONS)}")
        inbound_from = peers if direction in ("received", "both") else []
        outbound_to = peers if direction in ("sent", "both") else []
        return partial(self.link_rules, inbound_from, outbound_to)

    def _packet_faults(self) -> NodePackets:
        reason = self.cannot_fault_packets
        if reason:
            raise NodeError(f"no packet faults on {self.name}: {reason}")
        if self._packets is None:
            self._packets = NodePackets(self.name, self.packet_chain, self.packet_hooks, self.exec,
                                        self.directory / "packets.log")
        return self._packets

    def collect_logs(self, dest: Path) -> Path:
        """Write the node's log and config into dest/<name>/ (the run's store keeps them)."""
        target = dest / self.name
        target.mkdir(parents=True, exist_ok=True)
        (target / "node.log").write_text(self.log_text())
        if self.config_path.is_file():
            (target / self.plan.config_name).write_text(self.config_path.read_text())
        return target

    def serves(self) -> bool:
        if self.role == "keeper":
            return keeper_mode(self.host, self.port) is not None
        return accepts_connections(self.host, self.port)

    def wait_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise NodeError(f"{self.name} exited before serving:\n{self.log_tail()}")
            if self.serves():
                return
            time.sleep(0.1)
        raise NodeError(f"{self.name} did not serve on {self.address} within {timeout:g}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.address}>"
