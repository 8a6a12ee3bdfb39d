"""The register client against real servers (keeper, and Apache ZooKeeper where installed): what each op does
and how its outcome is recorded."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.handlers.threading import KazooTimeoutError

from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, Kind, unavailable_reason
from cluster.deploy.ports import free_ports
from tests.facilities import require
from workloads.register.client import ROOT, RegisterClient, connect

OP_TIMEOUT = 3.0


def started(kind: Kind, workdir: Path) -> KeeperEnsemble:
    reason = unavailable_reason(kind)
    require(reason is None, kind, reason or "")
    ensemble = KeeperEnsemble(kind, 1, workdir)
    try:
        ensemble.start()
        client = connect(ensemble.connect_string, 30)
        client.ensure_path(ROOT)
        client.stop()
        client.close()
        return ensemble
    except BaseException:
        ensemble.close()
        raise


@pytest.fixture(scope="module", params=KINDS)
def ensemble(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperEnsemble]:
    running = started(request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield running
    finally:
        running.close()


def op(client: RegisterClient, f: str, key: object, value: object = None) -> dict:
    return client.invoke({"f": f, "value": {"key": key, "value": value}})


@pytest.mark.parametrize("sync_reads", [False, True])
def test_reads_writes_and_cas_do_what_the_history_says(ensemble: KeeperEnsemble, sync_reads: bool) -> None:
    key = uuid.uuid4().hex
    client = RegisterClient(ensemble.connect_string, OP_TIMEOUT, sync_reads)
    try:
        assert op(client, "read", key) == {"type": "ok", "value": {"key": key, "value": None}}
        assert op(client, "cas", key, [0, 1])["type"] == "fail"  # nothing to compare with: nothing written
        assert op(client, "write", key, 3) == {"type": "ok", "value": {"key": key, "value": 3}}  # creates the znode
        assert op(client, "write", key, 1)["type"] == "ok"
        assert op(client, "cas", key, [1, 2]) == {"type": "ok", "value": {"key": key, "value": [1, 2]}}
        refused = op(client, "cas", key, [1, 4])
        assert refused["type"] == "fail" and "read 2" in refused["error"]
        assert op(client, "read", key)["value"] == {"key": key, "value": 2}
        assert op(client, "append", key, 5)["type"] == "fail"
    finally:
        client.close()


def test_a_write_whose_answer_never_comes_is_unknown_and_a_read_fails(tmp_path: Path) -> None:
    ensemble = started("keeper", tmp_path)
    try:
        client = RegisterClient(ensemble.connect_string, OP_TIMEOUT, sync_reads=False)
        ensemble.node(1).kill()
        write = op(client, "write", "k", 1)
        assert write["type"] == "info", write
        assert op(client, "read", "k")["type"] == "fail"
        assert op(client, "cas", "k", [1, 2])["type"] == "fail"  # its read got nothing, so it wrote nothing
        client.close()
    finally:
        ensemble.close()


def test_a_client_that_cannot_connect_leaves_no_thread_behind() -> None:
    before = threading.active_count()
    with pytest.raises(KazooTimeoutError):
        RegisterClient(f"127.0.0.1:{free_ports(1)[0]}", 1.0, sync_reads=False)
    assert threading.active_count() == before
