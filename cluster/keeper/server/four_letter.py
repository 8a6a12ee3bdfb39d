"""ZooKeeper's four-letter words (ruok, srvr, stat, isro, mntr) in ZooKeeper 3.8's text formats.

Tools find the leader and check health with these (`echo srvr | nc host 2181`),
so the lines they parse keep ZooKeeper's spelling: "Zxid: 0x...", "Mode: leader",
mntr's tab-separated zk_* pairs. A server with no leader says it is not serving.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.keeper.server.stats import ServerStats

VERSION = "3.8.0-logquake-keeper, built on 1970-01-01 00:00 UTC"
FOUR_LETTER_WORDS = frozenset({b"ruok", b"srvr", b"stat", b"isro", b"mntr"})
NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n"


@dataclass(frozen=True)
class ClientView:
    peer: str
    queued: int
    received: int
    sent: int


@dataclass(frozen=True)
class ServerView:
    """What the words report, gathered at the moment one is asked."""

    serving: bool
    mode: str
    zxid: int
    node_count: int
    watch_count: int
    ephemerals_count: int
    data_size: int
    outstanding: int
    clients: tuple[ClientView, ...]
    stats: ServerStats
    followers: int


def answer(word: bytes, view: ServerView) -> str:
    if word == b"ruok":
        return "imok"
    if word == b"isro":
        return "rw"
    if word == b"mntr":
        return _mntr(view)
    if not view.serving:
        return NOT_SERVING
    return _srvr(view, with_clients=word == b"stat")


def _srvr(view: ServerView, with_clients: bool) -> str:
    stats = view.stats
    lines = [f"Zookeeper version: {VERSION}"]
    if with_clients:
        lines.append("Clients:")
        lines += [f" /{c.peer}[1](queued={c.queued},recved={c.received},sent={c.sent})" for c in view.clients]
        lines.append("")
    lines += [
        f"Latency min/avg/max: {stats.latency_min_ms:.0f}/{stats.latency_avg_ms:.4f}/{stats.latency_max_ms:.0f}",
        f"Received: {stats.packets_received}",
        f"Sent: {stats.packets_sent}",
        f"Connections: {len(view.clients)}",
        f"Outstanding: {view.outstanding}",
        f"Zxid: 0x{view.zxid:x}",
        f"Mode: {view.mode}",
        f"Node count: {view.node_count}",
    ]
    return "\n".join(lines) + "\n"


def _mntr(view: ServerView) -> str:
    stats = view.stats
    pairs: list[tuple[str, object]] = [
        ("zk_version", VERSION),
        ("zk_server_state", view.mode if view.serving else "not serving"),
        ("zk_avg_latency", f"{stats.latency_avg_ms:.4f}"),
        ("zk_max_latency", f"{stats.latency_max_ms:.0f}"),
        ("zk_min_latency", f"{stats.latency_min_ms:.0f}"),
        ("zk_packets_received", stats.packets_received),
        ("zk_packets_sent", stats.packets_sent),
        ("zk_num_alive_connections", len(view.clients)),
        ("zk_outstanding_requests", view.outstanding),
        ("zk_znode_count", view.node_count),
        ("zk_watch_count", view.watch_count),
        ("zk_ephemerals_count", view.ephemerals_count),
        ("zk_approximate_data_size", view.data_size),
        ("zk_zxid", f"0x{view.zxid:x}"),
    ]
    if view.mode == "leader":
        pairs.append(("zk_followers", view.followers))
    return "".join(f"{name}\t{value}\n" for name, value in pairs)
