"""Each test module gets its own 3-keeper, 3-broker cluster of real local processes; after every test the
cluster is made whole again (brokers restarted, resumed, registered), so tests in a module can share it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_cluster import BROKER_OVERRIDES, LiveCluster, live_cluster, whole_again

__all__ = ["cluster", "whole_again"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    with live_cluster(tmp_path_factory.mktemp("cluster"), 3, BROKER_OVERRIDES) as live:
        yield live
