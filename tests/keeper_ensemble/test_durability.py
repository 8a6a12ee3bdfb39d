"""Restarts keep data: one server stopped (SIGTERM) and started again, then every server killed at once."""

from __future__ import annotations

from kazoo.client import KazooClient

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from tests.keeper_ensemble.conftest import Connect

NODES = 30


def snapshot(client: KazooClient, root: str) -> dict[str, tuple[bytes, object]]:
    client.sync(root)
    names = sorted(client.get_children(root))
    return {path: client.get(path) for path in [root] + [f"{root}/{name}" for name in names]}


def write(client: KazooClient, root: str) -> None:
    client.create(root, b"root")
    for n in range(NODES):
        client.create(f"{root}/node-{n:03}", f"value {n}".encode())
        if n % 3 == 0:
            client.set(f"{root}/node-{n:03}", f"changed {n}".encode())
        if n % 5 == 0:
            client.delete(f"{root}/node-{n:03}")


def test_restarts_keep_the_data_one_server_at_a_time_and_all_at_once(
    own_ensemble: KeeperEnsemble, connect: Connect, root: str
) -> None:
    writer = connect(own_ensemble.connect_string)
    write(writer, root)
    expected = snapshot(writer, root)
    writer.stop()

    follower = own_ensemble.followers()[0]
    follower.restart()
    own_ensemble.wait_until_serving()
    assert snapshot(connect(follower.address), root) == expected

    for node in own_ensemble.nodes:
        node.kill()
    for node in own_ensemble.nodes:
        node.start()
    own_ensemble.wait_until_serving()
    for node in own_ensemble.nodes:
        assert snapshot(connect(node.address), root) == expected
    after = connect(own_ensemble.connect_string)
    after.create(f"{root}/after-restart")
    assert after.exists(f"{root}/after-restart").czxid > max(stat.mzxid for _, stat in expected.values())
