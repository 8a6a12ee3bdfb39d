"""How a cluster member leaves: SIGTERM hands its leaderships over first; a lost keeper cannot hold it up."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from cluster.broker.controller.view import ClusterView
from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.keeper_ensemble import KeeperEnsemble
from cluster.deploy.status import read_view
from tests.polling import wait_until

TIMEOUT = 60.0


def member(keeper: KeeperEnsemble, tmp_path, broker_id: int, **overrides: object) -> BrokerProcess:
    return BrokerProcess(tmp_path / f"broker-{broker_id}", **{
        "broker.id": broker_id, "zookeeper.connect": keeper.connect_string, "zookeeper.session.timeout.ms": 6000,
        **overrides,
    })


def in_sync(keeper: KeeperEnsemble, topic: str, partitions: int, replicas: int) -> ClusterView | None:
    view = read_view(keeper.connect_string)
    states = [view.states.get((topic, p)) for p in range(partitions)]
    return view if all(s is not None and s.leader >= 0 and len(s.isr) == replicas for s in states) else None


def test_sigterm_moves_leaderships_away_before_the_broker_exits_cleanly(tmp_path):
    with KeeperEnsemble("keeper", 1, tmp_path / "keeper") as keeper, \
            member(keeper, tmp_path, 1) as leaving, member(keeper, tmp_path, 2) as staying:
        admin = AdminClient({"bootstrap.servers": staying.bootstrap})
        wait_until(lambda: len(admin.list_topics(timeout=10).brokers) == 2, "both brokers registered")
        admin.create_topics([NewTopic("handed", 4, 2)])["handed"].result(30)
        view = wait_until(lambda: in_sync(keeper, "handed", 4, 2), "four partitions in sync on two brokers")
        assert view.led_by(1), "round-robin placement gives each broker leaderships"

        assert leaving.stop(timeout=TIMEOUT) == 0
        after = read_view(keeper.connect_string)
        assert {after.states[("handed", p)].leader for p in range(4)} == {2}, "broker 2 took every leadership"


def test_sigterm_ends_a_broker_whose_keeper_is_gone(tmp_path):
    with KeeperEnsemble("keeper", 1, tmp_path / "keeper") as keeper, \
            member(keeper, tmp_path, 1, **{"controlled.shutdown.timeout.ms": 2000}) as broker:
        wait_until(lambda: 1 in read_view(keeper.connect_string).live, "broker 1 registered")
        keeper.node(1).kill()
        assert broker.stop(timeout=TIMEOUT) == 0
