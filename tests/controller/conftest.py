"""Real coordination servers for the control-plane tests: Apache ZooKeeper 3.8, which proves the tests
right, and keeper, which the cluster runs on. Each test works in a chroot of its own on a shared server."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from kazoo.client import KazooClient

from cluster.broker.controller.core import ControllerSettings
from cluster.broker.controller.runtime import ClusterMember
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, unavailable_reason
from tests.facilities import require

WAIT_S = 30.0
"""Generous: a bound on waiting for an outcome, not a measure of speed."""


@pytest.fixture(scope="module", params=KINDS)
def ensemble(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperEnsemble]:
    reason = unavailable_reason(request.param)
    require(reason is None, request.param, reason or "")
    running = KeeperEnsemble(request.param, 1, Path(tmp_path_factory.mktemp(request.param)), tick_time=1000)
    try:
        yield running.start()
    finally:
        running.close()


@pytest.fixture
def hosts(ensemble: KeeperEnsemble) -> str:
    """The ensemble's connect string with a chroot of this test's own."""
    root = f"/controller-test-{uuid.uuid4().hex[:12]}"
    client = KazooClient(hosts=ensemble.connect_string)
    client.start(timeout=WAIT_S)
    try:
        client.ensure_path(root)
    finally:
        client.stop()
        client.close()
    return ensemble.connect_string + root


class Brokers:
    """ClusterMembers started by a test, every one stopped at the end whatever happened."""

    def __init__(self, hosts: str) -> None:
        self.hosts = hosts
        self.members: dict[int, ClusterMember] = {}

    def start(self, broker_id: int, settings: ControllerSettings = ControllerSettings()) -> ClusterMember:
        member = ClusterMember(self.hosts, BrokerRegistration.plaintext(broker_id, "127.0.0.1", 9000 + broker_id), settings)
        member.start(WAIT_S)
        self.members[broker_id] = member
        return member

    def start_all(self, *broker_ids: int) -> ClusterMember:
        """Starts brokers and waits until they agree on who is alive and who is controller, which it returns."""
        for broker_id in broker_ids:
            self.start(broker_id)
        return self.controller()

    def stop(self, broker_id: int) -> None:
        self.members.pop(broker_id).stop()

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            assert time.monotonic() < deadline, f"gave up waiting: {what}"
            time.sleep(0.05)

    def controller(self) -> ClusterMember:
        """The one member acting as controller, once every member's view agrees on it and on who is alive."""
        def settled() -> bool:
            acting = [member for member in self.members.values() if member.is_controller]
            views = [member.view for member in self.members.values()]
            return len(acting) == 1 and all(
                view.controller == acting[0].broker_id and view.live == set(self.members) for view in views
            )

        self.wait_until(settled, "one controller that every member knows, and every member alive")
        return next(member for member in self.members.values() if member.is_controller)

    def close(self) -> None:
        for member in self.members.values():
            member.stop()


@pytest.fixture
def brokers(hosts: str) -> Iterator[Brokers]:
    started = Brokers(hosts)
    try:
        yield started
    finally:
        started.close()
