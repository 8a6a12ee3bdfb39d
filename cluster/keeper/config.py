"""keeper's settings, read from a zoo.cfg that Apache ZooKeeper 3.8 reads too.

One file drives either server: ZooKeeper's names keep ZooKeeper's meaning and
defaults, names that only tune ZooKeeper internals are accepted and ignored
(IGNORED lists them), and keeper's own extensions are names ZooKeeper stores
as harmless system properties. Anything else is refused by name, so nobody
believes a setting is in force when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from cluster import config_values, properties

DEFAULT_CLIENT_PORT = 2181
DEFAULT_TICK_MS = 3000
"""ZooKeeperServer.DEFAULT_TICK_TIME (the sample zoo.cfg says 2000)."""
DEFAULT_SNAP_COUNT = 100_000
DEFAULT_ELECTION_TIMEOUT_MS = 1000

SUPPORTED = (
    "dataDir", "dataLogDir", "clientPort", "clientPortAddress", "tickTime", "initLimit", "syncLimit",
    "minSessionTimeout", "maxSessionTimeout", "snapCount", "forceSync", "server.N",
    "linearizableReads", "electionTimeoutMs",
)
"""What keeper reads; the last two are keeper's extensions."""

IGNORED = frozenset({
    "4lw.commands.whitelist", "admin.enableServer", "admin.serverAddress", "admin.serverPort",
    "admin.idleTimeout", "admin.commandURL", "autopurge.purgeInterval", "autopurge.snapRetainCount",
    "standaloneEnabled", "reconfigEnabled", "maxClientCnxns", "globalOutstandingLimit", "preAllocSize",
    "syncEnabled", "electionAlg", "quorumListenOnAllIPs", "cnxTimeout", "leaderServes",
    "metricsProvider.className", "metricsProvider.httpPort", "metricsProvider.exportJvmInfo",
    "clientPortListenBacklog", "maxCnxns", "connectToLearnerMasterLimit", "jute.maxbuffer",
    "zookeeper.snapshot.trust.empty", "snapshot.trust.empty", "audit.enable",
})
"""ZooKeeper names with no counterpart in keeper. (initLimit and syncLimit are read and checked,
then unused: keeper's Raft times its elections with electionTimeoutMs.)"""

REFUSED = {
    "dynamicConfigFile": "reconfig is not supported",
    "secureClientPort": "TLS is not supported",
    "secureClientPortAddress": "TLS is not supported",
    "peerType": "observers are not supported",
    "localSessionsEnabled": "local sessions are not supported",
    "skipACL": "ACLs are not supported",
}


@dataclass(frozen=True)
class Peer:
    id: int
    host: str
    peer_port: int
    election_port: int
    client_host: str | None = None
    client_port: int | None = None


@dataclass(frozen=True)
class KeeperConfig:
    data_dir: Path
    log_dir: Path
    my_id: int
    peers: tuple[Peer, ...]
    client_host: str
    client_port: int
    tick_ms: int
    min_session_timeout_ms: int
    max_session_timeout_ms: int
    snap_count: int
    force_sync: bool
    linearizable_reads: bool
    election_timeout_ms: int

    @property
    def standalone(self) -> bool:
        return len(self.peers) == 1

    @property
    def me(self) -> Peer:
        return next(peer for peer in self.peers if peer.id == self.my_id)

    def negotiate_timeout(self, requested_ms: int) -> int:
        """ZooKeeper clamps what a client asks for into [minSessionTimeout, maxSessionTimeout]."""
        return max(self.min_session_timeout_ms, min(requested_ms, self.max_session_timeout_ms))

    @classmethod
    def from_properties(cls, values: Mapping[str, str]) -> KeeperConfig:
        _check_names(values)
        if "dataDir" not in values:
            raise ValueError("property dataDir is required")
        data_dir = Path(config_values.text("dataDir", values["dataDir"]))
        log_dir = Path(config_values.text("dataLogDir", values["dataLogDir"])) if "dataLogDir" in values else data_dir
        tick_ms = _positive("tickTime", values.get("tickTime", DEFAULT_TICK_MS))
        for limit in ("initLimit", "syncLimit"):
            if limit in values:
                _positive(limit, values[limit])
        declared = _peers(values)
        my_id = _my_id(data_dir) if declared else 1
        peers = declared or (Peer(1, "127.0.0.1", 0, 0),)
        if my_id not in {peer.id for peer in peers}:
            raise ValueError(f"{data_dir / 'myid'} says {my_id}, which no server.N line declares")
        me = next(peer for peer in peers if peer.id == my_id)
        client_port = me.client_port if me.client_port is not None else _client_port(values)
        client_host = me.client_host or config_values.text(
            "clientPortAddress", values.get("clientPortAddress", "0.0.0.0")
        )
        min_timeout = _positive("minSessionTimeout", values.get("minSessionTimeout", 2 * tick_ms))
        max_timeout = _positive("maxSessionTimeout", values.get("maxSessionTimeout", 20 * tick_ms))
        if min_timeout > max_timeout:
            raise ValueError(f"minSessionTimeout {min_timeout} exceeds maxSessionTimeout {max_timeout}")
        return cls(
            data_dir=data_dir,
            log_dir=log_dir,
            my_id=my_id,
            peers=peers,
            client_host=client_host,
            client_port=client_port,
            tick_ms=tick_ms,
            min_session_timeout_ms=min_timeout,
            max_session_timeout_ms=max_timeout,
            snap_count=_positive("snapCount", values.get("snapCount", DEFAULT_SNAP_COUNT)),
            force_sync=_yes_no("forceSync", values.get("forceSync", "yes")),
            linearizable_reads=config_values.boolean("linearizableReads", values.get("linearizableReads", "false")),
            election_timeout_ms=_positive(
                "electionTimeoutMs", values.get("electionTimeoutMs", DEFAULT_ELECTION_TIMEOUT_MS)
            ),
        )

    @classmethod
    def load(cls, path: str | Path) -> KeeperConfig:
        """Relative directories are taken from the working directory, as ZooKeeper does."""
        return cls.from_properties(properties.load(path))


def _check_names(values: Mapping[str, str]) -> None:
    for name in values:
        if name in REFUSED:
            raise ValueError(f"property {name}: {REFUSED[name]} by keeper")
        if name in IGNORED or name in SUPPORTED or name.startswith("server."):
            continue
        if name.startswith(("group.", "weight.")):
            raise ValueError(f"property {name}: hierarchical quorums are not supported by keeper")
        raise ValueError(
            f"unknown property {name}: keeper reads {', '.join(SUPPORTED)} and ignores {', '.join(sorted(IGNORED))}"
        )


def _positive(name: str, value: object) -> int:
    number = config_values.integer(name, value)
    if number <= 0:
        raise ValueError(f"property {name} must be positive, got {number}")
    return number


def _port(name: str, value: object) -> int:
    number = config_values.integer(name, value)
    if not 0 <= number <= 65535:
        raise ValueError(f"property {name}: {number} is not a port")
    return number


def _yes_no(name: str, value: object) -> bool:
    """ZooKeeper spells forceSync "yes"/"no"."""
    text = config_values.text(name, value).lower()
    if text not in ("yes", "no"):
        raise ValueError(f"property {name} must be yes or no, got {value!r}")
    return text == "yes"


def _client_port(values: Mapping[str, str]) -> int:
    if "clientPort" not in values:
        raise ValueError("property clientPort is required (or a ';clientPort' suffix on this server's server.N line)")
    return _port("clientPort", values["clientPort"])


def _peers(values: Mapping[str, str]) -> tuple[Peer, ...]:
    peers = []
    for name, value in values.items():
        if not name.startswith("server."):
            continue
        suffix = name.removeprefix("server.")
        if not suffix.isdigit() or int(suffix) <= 0:
            raise ValueError(f"property {name}: N in server.N must be a positive integer")
        peers.append(_peer(name, int(suffix), config_values.text(name, value)))
    return tuple(sorted(peers, key=lambda peer: peer.id))


def _peer(name: str, peer_id: int, spec: str) -> Peer:
    """`host:peerPort:electionPort[:participant][;[clientHost:]clientPort]`."""
    quorum, _, client = spec.partition(";")
    parts = quorum.strip().split(":")
    if len(parts) == 4 and parts[3] in ("participant", "observer"):
        if parts[3] == "observer":
            raise ValueError(f"property {name}: observers are not supported by keeper")
        parts = parts[:3]
    if len(parts) != 3 or not parts[0]:
        raise ValueError(f"property {name}: expected host:peerPort:electionPort[;clientPort], got {spec!r}")
    host, peer_port, election_port = parts[0], _port(name, parts[1]), _port(name, parts[2])
    if not client.strip():
        return Peer(peer_id, host, peer_port, election_port)
    client_host, _, client_port = client.strip().rpartition(":")
    return Peer(peer_id, host, peer_port, election_port, client_host or None, _port(name, client_port))


def _my_id(data_dir: Path) -> int:
    path = data_dir / "myid"
    try:
        text = path.read_text().strip()
    except OSError as error:
        raise ValueError(f"an ensemble needs {path} holding this server's N: {error.strerror}") from None
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{path} must hold a positive integer, got {text!r}")
    return int(text)
