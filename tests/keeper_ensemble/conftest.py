"""Ensembles of both kinds for the kazoo, zkCli and bad-input tests.

Every test runs against Apache ZooKeeper 3.8, which proves the test right, and
against keeper, which is what the test is for. `ensemble` is one healthy
3-server ensemble per kind shared by the whole session: tests on it work under
their own root znode and must leave every server running. Tests that kill or
restart servers take `own_ensemble`.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from kazoo.client import KazooClient

from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, Kind, unavailable_reason
from tests.facilities import require

TICK_TIME = 2000
"""ZooKeeper's usual tick: followers may then lag 10 s (syncLimit 5) before dropping out, which a JVM starved
on this shared 2-core machine needs; sessions may still time out after 4 s (2 ticks), so expiry stays quick."""
CONNECT_TIMEOUT = 30


def start_ensemble(kind: Kind, workdir: Path, size: int = 3) -> KeeperEnsemble:
    reason = unavailable_reason(kind)
    require(reason is None, kind, reason or "")
    ensemble = KeeperEnsemble(kind, size, workdir, tick_time=TICK_TIME)
    try:
        return ensemble.start()
    except BaseException:
        ensemble.close()
        raise


@pytest.fixture(scope="session", params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    value: Kind = request.param
    return value


@pytest.fixture(scope="session")
def ensemble(kind: Kind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperEnsemble]:
    running = start_ensemble(kind, tmp_path_factory.mktemp(f"shared-{kind}"))
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def own_ensemble(kind: Kind, tmp_path: Path) -> Iterator[KeeperEnsemble]:
    running = start_ensemble(kind, tmp_path)
    try:
        yield running
    finally:
        running.close()


Connect = Callable[..., KazooClient]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Starts kazoo clients (keyword arguments go to KazooClient) and closes every one of them afterwards."""
    clients: list[KazooClient] = []

    def started(hosts: str, **options: Any) -> KazooClient:
        client = KazooClient(hosts=hosts, **{"timeout": 10.0, **options})
        clients.append(client)
        client.start(timeout=CONNECT_TIMEOUT)
        return client

    yield started
    for client in clients:
        client.stop()
        client.close()


@pytest.fixture
def root() -> str:
    """A root znode of the test's own, so tests sharing an ensemble never see each other's nodes."""
    return f"/test-{uuid.uuid4().hex[:12]}"
