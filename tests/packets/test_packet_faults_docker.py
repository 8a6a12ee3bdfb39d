"""Packet faults on containers: rules in each container's own namespace, by the peers' addresses, and a handler
per target on the host inside the container's network namespace (nsenter), so the node image has none."""

from __future__ import annotations

import pytest

from cluster.deploy.deployment import ClusterSpec, deploy, docker_unavailable
from cluster.packets.process import unavailable_reason
from tests.facilities import require
from tests.packets import packet_checks

PYTHON = "python"
"""The node image's Python, which the probes run as inside the containers."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = docker_unavailable() or unavailable_reason()
    require(reason is None, "docker and netfilterqueue", reason or "")
    with deploy(ClusterSpec(keepers=2, brokers=0), "docker", tmp_path_factory.mktemp("packets")) as deployment:
        yield deployment


@pytest.mark.parametrize("check", [packet_checks.check_delay, packet_checks.check_delay_of_what_a_target_sends,
                                   packet_checks.check_duplicate,
                                   packet_checks.check_reorder, packet_checks.check_corrupt,
                                   packet_checks.check_loss, packet_checks.check_fails_open_when_the_handler_dies],
                         ids=lambda check: check.__name__.removeprefix("check_"))
def test_packet_fault_on_real_traffic(cluster, check):
    check(cluster, PYTHON)
