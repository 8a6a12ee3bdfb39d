"""One keeper and three brokers as real local processes, shared by a module's tests and made whole after each."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from cluster.broker.controller.partition_state import NO_LEADER
from cluster.broker.controller.status import describe, read_view
from cluster.broker.controller.view import ClusterView
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy
from cluster.deploy.node import Node

TIMEOUT = 60.0
"""Generous: session expiry and elections on a machine other tests load too."""

OVERRIDES = {
    "zookeeper.session.timeout.ms": "6000",
    "replica.lag.time.max.ms": "3000",
    "replica.fetch.wait.max.ms": "200",
    "offsets.topic.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
}


class Cluster:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    @property
    def bootstrap(self) -> str:
        return self.deployment.bootstrap_servers

    def broker(self, broker_id: int) -> Node:
        (node,) = [node for node in self.deployment.brokers if node.node_id == broker_id]
        return node

    def wait_view(self, holds: Callable[[ClusterView], bool], what: str, timeout: float = TIMEOUT) -> ClusterView:
        deadline = time.monotonic() + timeout
        view = None
        while time.monotonic() < deadline:
            try:
                view = read_view(self.deployment.keeper_connect, timeout_s=10)
            except (KazooException, KazooTimeoutError):
                view = None
            if view is not None and holds(view):
                return view
            time.sleep(0.3)
        shown = "\n".join(describe(view)) if view else "(keeper unreadable)"
        logs = "\n".join(f"--- broker {b.node_id}:\n{b.log_tail(30)}" for b in self.deployment.brokers)
        raise AssertionError(f"not within {timeout:g}s: {what}\n{shown}\n{logs}")

    def wait_in_sync(self, topic: str, partitions: int) -> ClusterView:
        return self.wait_view(
            lambda view: all(
                (state := view.states.get((topic, p))) is not None and state.leader != NO_LEADER and len(state.isr) == 3
                for p in range(partitions)
            ),
            f"{topic}: {partitions} partition(s) led, three replicas in sync",
        )

    def restore(self) -> None:
        for node in self.deployment.brokers:
            if node.is_paused():
                node.resume()
            if not node.is_running():
                node.start()
        self.wait_view(lambda view: len(view.live) == 3 and view.controller is not None, "three brokers registered")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    deployment = deploy(ClusterSpec(keepers=1, brokers=3, broker_overrides=OVERRIDES), "local",
                        tmp_path_factory.mktemp("cluster"))
    with deployment:
        running = Cluster(deployment)
        running.restore()
        yield running


@pytest.fixture(autouse=True)
def whole_again(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "cluster" in request.fixturenames:
        request.getfixturevalue("cluster").restore()
