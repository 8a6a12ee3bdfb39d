"""Packet faults on local processes: rules in the host's per-block chain, matching the sending peer's cgroup,
and a handler per target on the host."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.node_cgroups import unavailable_reason as cgroups_unavailable
from cluster.packets.process import unavailable_reason
from tests.facilities import require
from tests.packets import packet_checks
from tests.packets.traffic import Client, udp_exchange


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = unavailable_reason() or cgroups_unavailable()
    require(reason is None, "root, iptables, cgroup v2 and netfilterqueue", reason or "")
    with deploy(ClusterSpec(keepers=2, brokers=0), "local", tmp_path_factory.mktemp("packets")) as deployment:
        yield deployment


@pytest.mark.parametrize("check", [packet_checks.check_delay, packet_checks.check_delay_of_what_a_target_sends,
                                   packet_checks.check_duplicate,
                                   packet_checks.check_reorder, packet_checks.check_corrupt,
                                   packet_checks.check_loss, packet_checks.check_fails_open_when_the_handler_dies],
                         ids=lambda check: check.__name__.removeprefix("check_"))
def test_packet_fault_on_real_traffic(cluster, check):
    check(cluster, sys.executable)


def test_a_clients_packets_are_not_touched(cluster):
    """The rules match the peers' cgroups: the harness's own traffic to a faulted node passes unharmed."""
    faults = nemesis.build(["packet-loss"], cluster, {"rng": random.Random(5), "roles": ("keeper",),
                                                       "nemesis_options": {"loss-probability": "1"}})
    receiver = cluster.keepers[1]
    faults.invoke("start-packet-loss", [receiver.name])
    try:
        seen = udp_exchange(Client(), receiver, sys.executable, 50)
        assert sorted(seen.intact) == list(range(50))
        assert udp_exchange(cluster.keepers[0], receiver, sys.executable, 50).intact == []
    finally:
        faults.heal()


def test_stop_removes_exactly_the_targets_rules(cluster):
    """Rules of other owners in the block's chain (another node's, another fault's) outlive the stop."""
    faults = nemesis.build(["packet-loss"], cluster, {"rng": random.Random(6), "roles": ("keeper",),
                                                       "nemesis_options": {"loss-probability": "0.1"}})
    target, other = cluster.keepers[1], cluster.keepers[0]
    faults.invoke("start-packet-loss", [target.name])
    foreign = ["-d", "127.0.0.1", "-p", "udp", "--dport", "9", "-m", "comment", "--comment",
               f"logquake:packets:{other.name}", "-j", "DROP"]
    subprocess.run(["iptables", "-w", "-A", target.packet_chain, *foreign], check=True)
    try:
        faults.invoke("stop-packet-loss", None)
        assert packet_checks.packet_rules(target) == []
        assert len(packet_checks.packet_rules(other)) == 1
    finally:
        subprocess.run(["iptables", "-w", "-D", target.packet_chain, *foreign], check=True)


def test_teardown_ends_a_running_handler_and_removes_the_blocks_packet_chain(tmp_path):
    """A run torn down with a packet fault still on (an interrupted run) leaves no handler and no chain."""
    with deploy(ClusterSpec(keepers=2, brokers=0), "local", tmp_path) as deployment:
        faults = nemesis.build(["packet-duplicate"], deployment, {"rng": random.Random(7), "roles": ("keeper",)})
        faults.invoke("start-packet-duplicate", [deployment.keepers[1].name])
        assert packet_checks.handlers()
        chain = deployment.keepers[1].packet_chain
    assert packet_checks.handlers() == []
    listing = subprocess.run(["iptables", "-w", "-S", chain], capture_output=True, text=True)
    assert listing.returncode != 0, listing.stdout
