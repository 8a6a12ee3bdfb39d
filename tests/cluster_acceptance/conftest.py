"""Each test module gets its own 3-keeper, 3-broker cluster of real local processes; after every test the
cluster is made whole again (brokers restarted, resumed, registered), so tests in a module can share it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cluster.deploy.deployment import ClusterSpec, deploy
from tests.cluster_acceptance.live_cluster import BROKER_OVERRIDES, LiveCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    work_dir = tmp_path_factory.mktemp("cluster")
    deployment = deploy(ClusterSpec(keepers=3, brokers=3, broker_overrides=BROKER_OVERRIDES), "local", work_dir)
    with deployment:
        live = LiveCluster(deployment)
        live.restore()
        yield live


@pytest.fixture(autouse=True)
def whole_again(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "cluster" in request.fixturenames:
        request.getfixturevalue("cluster").restore()
