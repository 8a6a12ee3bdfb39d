"""One keeper and three brokers as real local processes, shared by a module's tests and made whole after each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_cluster import LiveCluster, live_cluster, whole_again

__all__ = ["OVERRIDES", "cluster", "whole_again"]

OVERRIDES = {
    "zookeeper.session.timeout.ms": "6000",
    "replica.lag.time.max.ms": "3000",
    "replica.fetch.wait.max.ms": "200",
    "offsets.topic.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    with live_cluster(tmp_path_factory.mktemp("cluster"), 1, OVERRIDES) as live:
        yield live
