"""The local backend: each node a `logquake` process on its own loopback address.

Linux routes all of 127.0.0.0/8 to the loopback interface, so every node gets its own address
(127.0.N.2, .3, ...) and the fixed ports of a real cluster (9092, 2181, 2888, 3888), exactly as in
the containers. N is the first block whose ports are all free and that no other live run has claimed:
free ports alone are not enough, since a run whose nodes a nemesis killed leaves its block free for a
while, and a second run moving in would meet the first one's peers on its election ports. The claim
is a lock on a file per block, held by the process that deployed the run and inherited by its nodes:
it lasts until the backend is released or all of them have ended, so a `cluster up` whose command
returned keeps its block, and a crashed run keeps it only while its nodes live (claims.py).
Each node runs in its own session: pause and kill reach its whole process group. `exec` runs on
the host, which is the only network namespace local nodes have. As root with cgroup v2, each node
also runs in a cgroup of its own (node_cgroups.py), which is how partitions tell its packets apart;
their rules live in a host chain per block, removed when the run is released and, after a crash,
when the block is claimed again.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Sequence

from cluster.deploy import claims, netfilter, node_cgroups
from cluster.deploy.backend import Backend, DeployError
from cluster.deploy.node import (BROKER_PORT, KEEPER_CLIENT_PORT, KEEPER_ELECTION_PORT, KEEPER_PEER_PORT,
                                 REPLICATION_PORT, Node, NodeError, NodePlan)
from cluster.deploy.node_cgroups import BlockCgroups
from cluster.deploy.node_process import NodeProcess
from cluster.deploy.ports import port_is_free

PID_FILE = "node.pid"
"""Written while a node runs, so that a crashed run's processes can be found and ended (cleanup.py)."""

_PORTS = (BROKER_PORT, REPLICATION_PORT, KEEPER_CLIENT_PORT, KEEPER_PEER_PORT, KEEPER_ELECTION_PORT)
BLOCK_CLAIMS = claims.CLAIMS_DIR / "logquake-local-blocks"
_PACKET_CHAIN_SUFFIX = "-packets"


class LocalNode(Node):
    partition_hooks = ("OUTPUT",)
    """Loopback packets are all generated here, so OUTPUT sees every one of them."""
    packet_hooks = ("OUTPUT",)

    def __init__(self, plan: NodePlan, directory: Path, claim: IO[bytes] | None = None,
                 cgroups: BlockCgroups | None = None, environment: Mapping[str, str] | None = None) -> None:
        super().__init__(plan, directory)
        self._environment = dict(environment or {})
        """What the node's process gets on top of the harness's environment (the clock preload); exec() does not."""
        self._process = NodeProcess(directory / "node.log", cwd=directory, own_session=True, pid_file=directory / PID_FILE)
        self._claim = claim
        """The run's address block claim, passed on to the process (see the module docstring)."""
        self._cgroups = cgroups
        self._cgroup = cgroups.create(plan.name) if cgroups is not None else None
        """The node's own cgroup, which its process and exec() join: how iptables tells its packets apart."""
        self.cannot_partition = None if cgroups is not None else node_cgroups.unavailable_reason()

    @property
    def partition_chain(self) -> str:
        return local_chain(self.host)

    def partition_drops(self, inbound_from: Sequence[Node], outbound_to: Sequence[Node]) -> list[netfilter.Rule]:
        return self.link_rules(inbound_from, outbound_to, netfilter.DROP)

    def link_rules(self, inbound_from: Sequence[Node], outbound_to: Sequence[Node],
                   target: netfilter.Rule) -> list[netfilter.Rule]:
        """Per link (sender S, receiver R), two rules, as the host's OUTPUT sees every loopback packet:
        what S's cgroup sends to R's address (connections S opens to R's listeners), and what leaves S's
        address on a connection R opened. R's own connections leave from 127.0.0.1 like every client's, so
        their replies are told apart by a connection mark R's cgroup sets on them (its first rule here)."""
        links = [(peer, self) for peer in inbound_from] + [(self, peer) for peer in outbound_to]
        receivers = list(dict.fromkeys(receiver for _, receiver in links))
        marks = [(*self._sent_by(receiver), "-j", "CONNMARK", "--set-xmark", _connection_mark(receiver.host))
                 for receiver in receivers]
        return marks + [rule for sender, receiver in links for rule in (
            (*self._sent_by(sender), "-d", receiver.host, *target),
            ("-s", sender.host, "-m", "connmark", "--mark", _connection_mark(receiver.host), *target))]

    def _sent_by(self, node: Node) -> netfilter.Rule:
        assert self._cgroups is not None, "drop_packets() and the packet faults check cannot_partition first"
        assert isinstance(node, LocalNode) and node._cgroup is not None, f"{node.name} is not a local node"
        return ("-m", "cgroup", "--path", self._cgroups.relative(node._cgroup))

    @property
    def packet_chain(self) -> str:
        return local_packet_chain(self.host)

    @property
    def cannot_fault_packets(self) -> str | None:
        """Peers' packets are told apart by cgroup here, as partitions tell them."""
        return self.cannot_partition or super().cannot_fault_packets

    @property
    def log_path(self) -> Path:
        return self._process.log_path

    def start(self) -> None:
        if self.is_running():
            raise NodeError(f"{self.name} is already running")
        command = self._in_cgroup([sys.executable, *self.plan.python_arguments(str(self.config_path.resolve()))])
        self._process.start(command, pass_fds=() if self._claim is None else (self._claim.fileno(),),
                            env=self._environment)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, then SIGKILL if the node has not ended within timeout seconds (NodeProcess.stop kills it)."""
        try:
            self._process.stop(timeout)
        except subprocess.TimeoutExpired:
            pass

    def kill(self) -> None:
        self._process.kill()

    def pause(self) -> None:
        self._require_running("pause")
        self._process.pause()

    def resume(self) -> None:
        self._require_running("resume")
        self._process.resume()

    def is_running(self) -> bool:
        return self._process.is_running()

    def is_paused(self) -> bool:
        return self._process.is_paused()

    def exec(self, argv: list[str]) -> tuple[int, str]:
        """Runs on the host, in the node's cgroup: what it sends counts as the node's for partitions."""
        result = subprocess.run(self._in_cgroup(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.directory)
        return result.returncode, result.stdout.decode(errors="replace")

    def log_text(self) -> str:
        return self._process.log_text()

    def _in_cgroup(self, argv: list[str]) -> list[str]:
        return argv if self._cgroup is None else node_cgroups.joining(self._cgroup, argv)

    def _require_running(self, action: str) -> None:
        if not self.is_running():
            raise NodeError(f"cannot {action} {self.name}: it is not running")


class LocalBackend(Backend):
    name = "local"

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._nodes: list[LocalNode] = []
        self._claim: IO[bytes] | None = None
        self._cgroups: BlockCgroups | None = None
        self._chain = ""
        self._block = ""

    def hosts(self, count: int, ports: Sequence[int] | None = None) -> list[str]:
        for block in range(256):
            held = claims.claim(BLOCK_CLAIMS, f"127.0.{block}")
            if held is None:
                continue
            hosts = [f"127.0.{block}.{2 + i}" for i in range(count)]
            if all(port_is_free(host, port) for host in hosts for port in ports or _PORTS):
                self._claim = held
                self._block = f"127.0.{block}"
                self._prepare_partitions(hosts[0])
                return hosts
            held.close()
        raise DeployError(f"no unclaimed block of {count} loopback addresses 127.0.N.2.. has ports "
                          f"{tuple(ports or _PORTS)} free")

    def _prepare_partitions(self, host: str) -> None:
        """Cgroups for the block's nodes, once what a crashed run left on the block (rules, cgroups) is gone."""
        root = node_cgroups.cgroup2_root()
        if root is None or node_cgroups.unavailable_reason() is not None:
            return
        self._chain = local_chain(host)
        self._cgroups = BlockCgroups(root, self._chain)
        _remove_partitions(self._cgroups, self._chain)

    def proxy_host(self) -> str:
        """The block's .1, which no node uses: the block's claim keeps other runs off it too."""
        assert self._block, "hosts() claims the block first"
        return f"{self._block}.1"

    def node_path(self, node_directory: Path, relative: str) -> str:
        return str((node_directory / relative).resolve())

    def create(self, plan: NodePlan, directory: Path, environment: Mapping[str, str] | None = None) -> Node:
        node = LocalNode(plan, directory, self._claim, self._cgroups, environment)
        self._nodes.append(node)
        return node

    def release(self) -> None:
        for node in self._nodes:
            node.kill()
        if self._cgroups is not None:
            _remove_partitions(self._cgroups, self._chain)
        if self._claim is not None:
            self._claim.close()
            self._claim = None


CONNECTION_MARK_MASK = 0x7FFF0000
"""The bits of a connection's mark that say which local node opened it: 8 for the block, 7 for the node."""


def _connection_mark(host: str) -> str:
    """The mark, unique on this host, of connections the node at `host` (127.0.N.M) opened: --set-xmark's form,
    so that marks other software sets outside the mask are left alone."""
    _, _, block, node = (int(part) for part in host.split("."))
    return f"{hex((block << 23) | (node << 16))}/{hex(CONNECTION_MARK_MASK)}"


def local_chain(host: str) -> str:
    """The host's partition chain for the loopback block of `host`: one per block, as a block is one run's."""
    return "logquake-" + host.rsplit(".", 1)[0]


def local_packet_chain(host: str) -> str:
    """The host's packet-fault chain for the loopback block of `host` (packet_rules.py)."""
    return local_chain(host) + _PACKET_CHAIN_SUFFIX


def _remove_partitions(cgroups: BlockCgroups, chain: str) -> None:
    """The block's partition and packet-fault chains go, then its cgroups."""
    subprocess.run(netfilter.remove_chain_command(chain, LocalNode.partition_hooks), check=False, capture_output=True)
    subprocess.run(netfilter.remove_chain_command(chain + _PACKET_CHAIN_SUFFIX, LocalNode.packet_hooks), check=False,
                   capture_output=True)
    cgroups.remove()
