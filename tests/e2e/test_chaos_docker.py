"""Issue 6's end-to-end chaos run on the docker backend: three replicated brokers and three keepers in containers."""

from __future__ import annotations

from cluster.deploy.deployment import docker_unavailable
from tests.e2e.runs import assert_valid_chaos_run, leftovers
from tests.facilities import require


def test_kill_chaos_on_three_replicas_in_containers_is_valid_and_leaves_nothing(tmp_path):
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    watched = assert_valid_chaos_run(tmp_path / "store", "docker")
    assert watched.docker_runs, "no container of the run was ever seen under its store"
    assert not leftovers(watched)
