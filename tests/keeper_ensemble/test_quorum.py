"""Five servers: losing two, the leader among them, still leaves a serving quorum; losing three does not."""

from __future__ import annotations

from pathlib import Path

from tenacity import Retrying, stop_after_delay, wait_fixed

from cluster.deploy.keeper_ensemble import Kind
from tests.keeper_ensemble.conftest import Connect, start_ensemble

WAIT = 60


def test_five_servers_serve_with_three_and_stop_serving_with_two(kind: Kind, tmp_path: Path, connect: Connect, root: str) -> None:
    ensemble = start_ensemble(kind, tmp_path, size=5)
    try:
        writer = connect(ensemble.connect_string)
        writer.create(root, b"five")
        old_leader = ensemble.leader()
        old_leader.kill()
        next(node for node in ensemble.nodes if node.is_running() and node is not old_leader).kill()
        new_leader = ensemble.wait_until_serving()
        assert new_leader is not old_leader and len(ensemble.followers()) == 2

        survivor = connect(new_leader.address)
        survivor.set(root, b"three of five")
        assert survivor.get(root)[0] == b"three of five"

        new_leader.kill()
        minority = [node for node in ensemble.nodes if node.is_running()]
        for attempt in Retrying(stop=stop_after_delay(WAIT), wait=wait_fixed(0.5), reraise=True):
            with attempt:
                modes = {node.node_id: node.mode() for node in minority}
                assert set(modes.values()) == {None}, f"a minority still claims to serve: {modes}"
    finally:
        ensemble.close()
