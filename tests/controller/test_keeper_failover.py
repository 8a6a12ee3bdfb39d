"""The control plane rides out the loss of the keeper ensemble's leader: clients move, watches re-arm."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from kazoo.client import KazooClient

from cluster.broker.controller import admin
from cluster.deploy.keeper_ensemble import KINDS, KeeperEnsemble, Kind, unavailable_reason
from tests.controller.conftest import WAIT_S, Brokers
from tests.facilities import require


@pytest.fixture(params=KINDS)
def three_keepers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeeperEnsemble]:
    kind: Kind = request.param
    reason = unavailable_reason(kind)
    require(reason is None, kind, reason or "")
    running = KeeperEnsemble(kind, 3, tmp_path, tick_time=1000)
    try:
        yield running.start()
    finally:
        running.close()


@pytest.mark.slow
def test_after_the_keeper_leader_dies_broker_loss_still_moves_leadership(three_keepers: KeeperEnsemble) -> None:
    client = KazooClient(hosts=three_keepers.connect_string)
    client.start(timeout=WAIT_S)
    client.ensure_path("/cluster")
    client.stop()
    client.close()
    brokers = Brokers(three_keepers.connect_string + "/cluster")
    try:
        controller = brokers.start_all(1, 2, 3)
        admin.create_topic(controller.client, "t", controller.view.live, 3, 3, start_index=0)
        controller.wait_for(lambda view: len(view.states) == 3, WAIT_S)
        three_keepers.leader().kill()
        three_keepers.wait_until_serving(WAIT_S * 2)
        victim = next(broker for broker in (1, 2, 3) if broker != controller.broker_id)
        brokers.stop(victim)
        watcher = brokers.members[next(broker for broker in brokers.members if broker != victim)]
        view = watcher.wait_for(
            lambda view: victim not in view.live and all(victim not in state.isr for state in view.states.values()),
            WAIT_S,
        )
        assert all(state.leader not in (victim, -1) for state in view.states.values())
        brokers.controller()
    finally:
        brokers.close()
