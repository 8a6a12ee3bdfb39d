"""Every class of fault through the plugin on the local backend, in one user's test file: a disk fault, a packet
fault and a clock fault on one cluster built for them, a proxy fault on a proxied one. Each block sees its fault's
effect (a slow fsync, a packet handler, a bumped clock, a slow round trip), and each fault is gone once its block
ends, and every process of both clusters once the tests do."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

import nemesis
from harness.history import NEMESIS, read_history
from tests.ci_plugin.plugin_runs import run_user_tests
from tests.facilities import require

pytest_plugins = ["pytester"]

EVERY_FAULT_CLASS = '''
import socket
import struct
import time

import psutil
import pytest

from tests.nemesis.disk_checks import fsync_seconds

HOUR_MS = 3_600_000
API_VERSIONS = struct.pack(">ihhih", 10, 18, 0, 7, -1)
"""A Kafka ApiVersions v0 request (size, api key 18, version 0, correlation id 7, no client id)."""


def packet_handlers():
    return [child for child in psutil.Process().children(recursive=True)
            if "cluster.packets" in " ".join(child.cmdline())]


def round_trip_seconds(bootstrap):
    """Seconds from sending one request to the first broker to its whole answer."""
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        started = time.monotonic()
        connection.sendall(API_VERSIONS)
        (size,) = struct.unpack(">i", connection.recv(4, socket.MSG_WAITALL))
        assert len(connection.recv(size, socket.MSG_WAITALL)) == size
        return time.monotonic() - started


@pytest.mark.logquake_cluster(brokers=1, keepers=1, faults=["slow-disk", "packet-delay", "clock-bump"],
                              nemesis_options={"fsync_delay_ms": 1000})
def test_disk_packet_and_clock_faults(logquake_cluster, logquake_history):
    b1, k1 = logquake_cluster.node("b1"), logquake_cluster.node("k1")
    with logquake_cluster.nemesis.fault("slow-disk", "b1") as slowed:
        assert slowed["faults"]["fsync_delay"] == 1.0
        assert fsync_seconds(b1.data_directory) >= 1.0
    assert fsync_seconds(b1.data_directory) < 1.0
    with logquake_cluster.nemesis.fault("packet-delay", "b1", packet_delay_ms=50) as delayed:
        assert delayed["parameters"]["delay_ms"] == 50 and len(packet_handlers()) == 1
    assert packet_handlers() == []
    with logquake_cluster.nemesis.fault("clock-bump", "all-keepers", bump_min_ms=HOUR_MS, bump_max_ms=HOUR_MS,
                                        bump_direction="forward") as bumped:
        assert bumped["nodes"] == ["k1"] and k1.clock.shift_ns() == HOUR_MS * 1_000_000
    assert k1.clock.shift_ns() == 0
    assert logquake_cluster.nemesis.active() == []


@pytest.mark.logquake_cluster(brokers=1, keepers=1, faults=["latency"])
def test_a_proxy_fault(logquake_cluster):
    bootstrap = logquake_cluster.bootstrap_servers
    with logquake_cluster.nemesis.fault("latency", "one", latency_ms=1000, links="client") as slowed:
        assert slowed["proxies"] == ["b1-client"]
        assert round_trip_seconds(bootstrap) >= 1.0
    assert round_trip_seconds(bootstrap) < 1.0
'''


def test_a_disk_a_packet_a_clock_and_a_proxy_fault_through_the_plugin(pytester: pytest.Pytester,
                                                                      tmp_path: Path) -> None:
    reason = nemesis.unavailable(["slow-disk", "packet-delay", "clock-bump"])
    require(reason is None, "FUSE, NFQUEUE and the clock library", reason or "")
    store = tmp_path / "store"
    result = run_user_tests(pytester, EVERY_FAULT_CLASS, store, "--logquake-backend", "local")
    result.assert_outcomes(passed=2)
    (history,) = store.glob("*test_disk_packet_and_clock_faults/latest/history.jsonl")
    ops = [(event["f"], event["type"]) for event in read_history(history) if event["process"] == NEMESIS]
    assert ops == [(f"{side}-{fault}", kind) for fault in ("slow-disk", "packet-delay", "clock-bump")
                   for side in ("start", "stop") for kind in ("invoke", "ok")]
    assert [p.pid for p in psutil.process_iter(["cmdline", "cwd"])
            if str(store) in " ".join(p.info["cmdline"] or []) + (p.info["cwd"] or "")] == []
