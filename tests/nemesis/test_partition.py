"""Partitions where they cannot be made: local nodes share the host's network namespace.

The partition itself is tested on containers (test_docker_nemesis.py)."""

from __future__ import annotations

import random

import pytest

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.node import NodeError
from logquake.spec import SpecError, TestSpec


def test_the_local_backend_refuses_partitions_before_anything_runs():
    with pytest.raises(SpecError, match="partition fault needs the docker backend"):
        TestSpec(nemesis=("partition",), backend="local")


def test_a_partition_nemesis_on_local_nodes_is_a_clear_error(tmp_path):
    with deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path) as deployment:
        with pytest.raises(nemesis.NemesisError, match="cannot run on this cluster: local nodes share"):
            nemesis.build(["partition"], deployment, {"rng": random.Random(1)})
        a, b = deployment.brokers
        with pytest.raises(NodeError, match="cannot be cut off"):
            a.isolate([b.host])
        a.reconnect()
