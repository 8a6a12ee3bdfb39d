"""The partition nemesis on local processes: rules in the host's chain for the run's loopback block,
matching each node's packets by its cgroup."""

from __future__ import annotations

import os
import random
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import nemesis
from cluster.deploy import claims, netfilter, node_cgroups
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.local import BLOCK_CLAIMS
from tests.facilities import require
from tests.nemesis.partition_checks import (check_grudges_are_applied_exactly_and_healed,
                                            check_group_talks_within_itself_until_heal,
                                            check_partition_cuts_both_ways_until_stopped)


def _partitions_possible() -> None:
    reason = node_cgroups.unavailable_reason()
    require(reason is None, "root, iptables and cgroup v2", reason or "")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    _partitions_possible()
    with deploy(ClusterSpec(keepers=1, brokers=3), "local", tmp_path_factory.mktemp("partition")) as deployment:
        yield deployment


def _rules(chain: str) -> list[str]:
    listing = subprocess.run(netfilter.listing_command(chain), capture_output=True, text=True)
    return [line for line in listing.stdout.splitlines() if line.startswith("-A ")]


def test_a_cut_off_broker_neither_reaches_nor_is_reached_until_stopped(cluster):
    check_partition_cuts_both_ways_until_stopped(cluster, sys.executable)


def test_a_group_keeps_talking_within_itself_until_heal(cluster):
    check_group_talks_within_itself_until_heal(cluster, sys.executable)


def test_only_the_cut_off_nodes_rules_exist_and_reconnect_removes_them(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(2)})
    victim = cluster.brokers[1]
    faults.invoke("start-partition", [victim.name])
    rules = _rules(victim.partition_chain)
    drops = [rule for rule in rules if rule.endswith("-j DROP")]
    assert len(drops) == 2 * 2 * (len(cluster.nodes) - 1), "two rules per link, each way, to every other node"
    assert all(f"logquake:{victim.name}" in shlex.split(rule) for rule in rules)
    faults.invoke("stop-partition", None)
    assert _rules(victim.partition_chain) == []


def test_the_whole_cluster_cannot_be_cut_off_from_nothing(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(2), "roles": ("broker", "keeper")})
    with pytest.raises(nemesis.NemesisError, match="whole cluster"):
        faults.invoke("start-partition", "all")
    assert faults.active() == []


def test_what_a_crashed_run_left_on_its_block_is_removed_when_the_block_is_claimed_again(tmp_path):
    _partitions_possible()
    with deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path / "first") as first:
        a, b = first.brokers
    chain = a.partition_chain
    assert subprocess.run(netfilter.listing_command(chain), capture_output=True).returncode != 0, "release removes the chain"
    left = subprocess.run(netfilter.drop_command(chain, ("OUTPUT",), a.name,
                                                 netfilter.address_drops(a.host, [b.host], [b.host])),
                          capture_output=True, text=True)
    assert left.returncode == 0 and _rules(chain), left.stderr  # what a crashed run leaves behind
    with _lower_blocks_held(a.host):
        with deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path / "second") as second:
            assert second.brokers[0].partition_chain == chain, "the block is free again, so the next run claims it"
            assert _rules(chain) == []


@contextmanager
def _lower_blocks_held(host: str) -> Iterator[None]:
    """Holds every free block below `host`'s, as other runs might: tests on other workers release blocks all
    the time, and the next deployment must come to this one rather than to a lower block freed meanwhile."""
    block = int(host.split(".")[2])
    held = [claim for n in range(block) if (claim := claims.claim(BLOCK_CLAIMS, f"127.0.{n}")) is not None]
    try:
        yield
    finally:
        for claim in held:
            claim.close()


def test_without_root_local_nodes_cannot_be_partitioned_and_say_why(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path) as deployment:
        with pytest.raises(nemesis.NemesisError, match="cannot run on this cluster: local partitions need root"):
            nemesis.build(["partition"], deployment, {"rng": random.Random(1)})


def test_grudges_drop_exactly_what_they_name_until_healed(cluster):
    check_grudges_are_applied_exactly_and_healed(cluster, sys.executable)
