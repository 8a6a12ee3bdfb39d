"""The partition nemesis end to end, on containers: a cut-off leader that clients keep writing to.

Under acks=1 it acknowledges writes that the follower elected in its place never had, and they are
lost when it rejoins; under acks=all it cannot acknowledge anything its followers lack."""

from __future__ import annotations

import pytest

from cluster.deploy.deployment import docker_unavailable
from tests.e2e.runs import partitioning_run
from tests.facilities import require


@pytest.fixture(autouse=True)
def _docker():
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")


def test_acks_1_loses_what_the_cut_off_leader_acknowledged(tmp_path):
    watched = partitioning_run(tmp_path / "store", "1")
    assert watched.code == 0, watched.output  # loss is what acks=1 allows: the claim holds
    lost = watched.anomaly("lost-write")
    assert lost["allowed"] > 0 and lost["forbidden"] == 0, lost


def test_acks_all_loses_nothing_to_the_same_partition(tmp_path):
    watched = partitioning_run(tmp_path / "store", "all")
    assert watched.code == 0, watched.output
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.results["queue"]["final_reads"]["complete"] is True
