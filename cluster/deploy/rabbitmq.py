"""RabbitMQ 3.10 (Debian's rabbitmq-server) inside a directory of its own: what one node is told, and its tools.

Debian's server would otherwise use /var/lib/rabbitmq, the machine's Erlang cookie and the shared
epmd on port 4369. Here a node's data (under data/, where the fault disks mount), its logs, plugin
and feature-flag files and HOME (so its cookie) all live in the node's directory, and epmd listens
on a port of the run's own, so a node cannot meet another run's. The server drops to the rabbitmq
user; here nodes run as the harness's user (root) instead, so that a run directory need not be
handed to that user and every parent of it opened to it. Nodes are named rabbit-<node>@<address>
(long names): on the local backend every node has a loopback address of its own, and a node named
by its address is reached at exactly that address, which is what partitions cut. The deployments of
logquake and the benchmarks' single node both start nodes through this module.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from cluster.deploy.node import AMQP_PORT, DATA_DIR

BIN = Path("/usr/lib/rabbitmq/bin")
DIST_PORT = 25672
"""Where a node listens for its peers (Erlang distribution), on its own address."""
EPMD_PORT = 4369
"""epmd's usual port: a container's own epmd listens there; the local backend gives each run another."""
PARTITION_HANDLING = ("ignore", "pause_minority", "autoheal")
"""RabbitMQ's cluster_partition_handling modes (pause_if_all_down needs a node list, and is left out)."""
NET_TICKTIME_S = 10
"""Erlang's net_ticktime as logquake's nodes run it: a peer silent for 0.75 to 1.25 times this many seconds is
declared down, and only then does cluster_partition_handling act. RabbitMQ's default, 60 s, leaves every partition of
a short run unnoticed; RabbitMQ's own partition tests run with 10 (and 5), Jepsen's RabbitMQ test with 30."""
NET_TICKTIME_HELP = ("Seconds a RabbitMQ node waits on a silent peer: it is declared down (and "
                     "cluster_partition_handling acts) after 0.75 to 1.25 times this (--system rabbitmq; "
                     "RabbitMQ's own default is 60).")
EPMD_LOG = "epmd.log"
"""In the deployment's work directory: what the local backend's epmd wrote."""
IDENTITY_FILE = "rabbitmq-node.json"
"""Beside a node's rabbitmq.conf: who the node is (NodeIdentity), read by the launcher (rabbitmq_node.py)."""


class RabbitMQError(RuntimeError):
    """RabbitMQ is missing, or a node or its tools did not do what they were told; the message says why."""


@dataclass(frozen=True)
class NodeIdentity:
    """Who a node is and where it listens, written beside its config before it first starts."""

    name: str
    """The node's name before the @: distinct per node, as nodes sharing an epmd register there by it."""
    host: str
    cookie: str
    epmd_port: int = EPMD_PORT
    amqp_port: int = AMQP_PORT
    dist_port: int = DIST_PORT

    @property
    def node_name(self) -> str:
        return f"{self.name}@{self.host}"

    def save(self, directory: Path) -> None:
        (directory / IDENTITY_FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, directory: Path) -> NodeIdentity:
        return cls(**json.loads((directory / IDENTITY_FILE).read_text()))


def unavailable_reason() -> str | None:
    """Why no RabbitMQ node can run here, or None when one can."""
    if not (BIN / "rabbitmq-server").exists():
        return "rabbitmq-server is not installed (Debian package rabbitmq-server)"
    return None


def net_ticktime_problem(value: object) -> str | None:
    """Why `value` cannot be a net_ticktime (Erlang takes a whole number of seconds, at least 1), or None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"net_ticktime must be a whole number of seconds, at least 1, not {value!r}"
    return None


def config_text(partition_handling: str, net_ticktime: int = NET_TICKTIME_S) -> str:
    """rabbitmq.conf: guest may connect from any address (clients reach nodes at their own addresses), and the tick
    time every node of the cluster shares (peers disagreeing on it drop each other's connections)."""
    if partition_handling not in PARTITION_HANDLING:
        raise RabbitMQError(f"cluster_partition_handling must be one of {', '.join(PARTITION_HANDLING)}, "
                            f"not {partition_handling!r}")
    if (problem := net_ticktime_problem(net_ticktime)) is not None:
        raise RabbitMQError(problem)
    return f"cluster_partition_handling = {partition_handling}\nnet_ticktime = {net_ticktime}\nloopback_users = none\n"


def prepare(directory: Path, identity: NodeIdentity) -> None:
    """The node's directories, no plugins, and the run's cookie (written again on every start: readable by its
    owner only, as Erlang demands)."""
    for name in (DATA_DIR, "log", "home"):
        (directory / name).mkdir(exist_ok=True)
    (directory / "enabled_plugins").write_text("[].\n")
    cookie = directory / "home" / ".erlang.cookie"
    cookie.unlink(missing_ok=True)
    cookie.write_text(identity.cookie)
    cookie.chmod(0o400)


def server_environment(directory: Path, identity: NodeIdentity) -> dict[str, str]:
    """The environment rabbitmq-server runs in: everything inside `directory`, logs on standard output (the
    node's log), and the server's script replaced by the VM itself (RUNNING_UNDER_SYSTEMD), so that the node's
    pid and process group are the VM's and signals reach it directly."""
    address = ",".join(identity.host.split("."))
    return {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(directory / "home"),
        "LANG": "C.UTF-8",
        "ERL_EPMD_PORT": str(identity.epmd_port),
        "RUNNING_UNDER_SYSTEMD": "true",
        "RABBITMQ_USE_LONGNAME": "true",
        "RABBITMQ_NODENAME": identity.node_name,
        "RABBITMQ_NODE_IP_ADDRESS": identity.host,
        "RABBITMQ_NODE_PORT": str(identity.amqp_port),
        "RABBITMQ_DIST_PORT": str(identity.dist_port),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": f"-kernel inet_dist_use_interface {{{address}}}",
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_MNESIA_BASE": str(directory / DATA_DIR),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_FEATURE_FLAGS_FILE": str(directory / "feature_flags"),
    }


def ctl_command(identity: NodeIdentity, *args: str) -> list[str]:
    """rabbitmqctl against the node, as a command that carries its own environment (it runs on the host or in a
    container alike); the run's cookie is given on the command line, so the tool needs no HOME of its own."""
    return ["env", f"ERL_EPMD_PORT={identity.epmd_port}", "HOME=/tmp", str(BIN / "rabbitmqctl"), "--longnames",
            "--erlang-cookie", identity.cookie, "-n", identity.node_name, *args]


def members(status_json: str) -> tuple[set[str], set[str]]:
    """(disk nodes, running nodes) out of `rabbitmqctl cluster_status --formatter json`."""
    try:
        status = json.loads(status_json[status_json.index("{"):])
    except ValueError:
        raise RabbitMQError(f"cluster_status gave no JSON: {status_json.strip()[:400]}") from None
    return set(status.get("disk_nodes", [])), set(status.get("running_nodes", []))


def epmd_command(port: int) -> list[str]:
    """epmd in the foreground on `port`, so that whoever starts it holds its pid and ends it."""
    path = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
    return [path, "-port", str(port)]


def stop_epmd(port: int) -> list[str]:
    """Ends the epmd that listens on `port`: one daemonized by a node (the benchmark's), or a run's whose harness
    is gone (`cluster up` returned, or crashed), has no parent left to ask. Returns what it ended."""
    ended = []
    listeners = {connection.pid for connection in psutil.net_connections("tcp")
                 if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid}
    for pid in sorted(listeners):
        try:
            process = psutil.Process(pid)
            if process.name() == "epmd":
                process.terminate()
                ended.append(f"epmd {pid} (port {port})")
        except psutil.NoSuchProcess:
            pass
    return ended


def local_epmd_ports(directory: Path) -> set[int]:
    """The private epmd ports of the RabbitMQ nodes under `directory` (not a container's usual one)."""
    identities = (NodeIdentity.load(path.parent) for path in directory.rglob(IDENTITY_FILE))
    return {identity.epmd_port for identity in identities if identity.epmd_port != EPMD_PORT}
