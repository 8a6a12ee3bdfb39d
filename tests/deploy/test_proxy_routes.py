"""A proxied cluster's plan: a proxy per node and link, and the config files that send every node through them."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from cluster.deploy import configs
from cluster.deploy.node import NodePlan
from cluster.deploy.proxy_routes import BROKER_LINKS, KEEPER_LINKS, LINKS, ProxyRoutes
from cluster.keeper.config import KeeperConfig
from cluster.properties import parse

PROXY_HOST = "10.213.7.1"


def _cluster(keepers: int, brokers: int) -> tuple[list[NodePlan], list[NodePlan]]:
    keeper_plans = [NodePlan(f"k{i}", "keeper", i, f"10.213.7.{10 + i}") for i in range(1, keepers + 1)]
    broker_plans = [NodePlan(f"b{i}", "broker", i, f"10.213.7.{20 + i}") for i in range(1, brokers + 1)]
    return keeper_plans, broker_plans


def _routes(keepers: list[NodePlan], brokers: list[NodePlan]) -> ProxyRoutes:
    return ProxyRoutes.plan(PROXY_HOST, keepers + brokers, itertools.count(19000))


@given(st.integers(0, 5), st.integers(0, 5))
def test_every_node_has_a_proxy_per_link_of_its_role_each_on_a_port_of_its_own(keepers, brokers):
    keeper_plans, broker_plans = _cluster(keepers, brokers)
    routes = _routes(keeper_plans, broker_plans)
    listens = [route.listen for route in routes.routes]
    assert len(set(listens)) == len(listens)
    assert all(listen.startswith(f"{PROXY_HOST}:") for listen in listens)
    assert len({route.name for route in routes.routes}) == len(routes.routes)
    for plan in keeper_plans + broker_plans:
        own = routes.of(plan.name)
        senders = {"keeper": brokers, "quorum": keepers - 1}
        expected = {link for link in (BROKER_LINKS if plan.role == "broker" else KEEPER_LINKS) if senders.get(link, 1)}
        assert {route.link for route in own} == expected
        assert all(route.upstream.startswith(f"{plan.host}:") for route in own)
        sent = routes.sent_by(plan.name)
        assert len(sent) == (keepers if plan.role == "broker" else 2 * (keepers - 1))
        assert {route.link for route in sent} <= {"keeper" if plan.role == "broker" else "quorum"}
    assert {route.link for route in routes.routes} <= set(LINKS)


def test_a_link_filter_picks_the_nodes_proxies_of_those_links():
    keepers, brokers = _cluster(3, 3)
    routes = _routes(keepers, brokers)
    assert [(route.name, route.upstream) for route in routes.of("k2", ("quorum",))] == [
        ("k2-quorum-from-k1", "10.213.7.12:2888"), ("k2-quorum-election-from-k1", "10.213.7.12:3888"),
        ("k2-quorum-from-k3", "10.213.7.12:2888"), ("k2-quorum-election-from-k3", "10.213.7.12:3888")]
    assert [route.name for route in routes.of("b1", ("replication", "quorum"))] == ["b1-replication"]
    assert routes.of("b1", ("keeper",)) == []
    assert [route.name for route in routes.sent_by("b1")] == ["k1-keeper-from-b1", "k2-keeper-from-b1",
                                                              "k3-keeper-from-b1"]
    assert [route.name for route in routes.sent_by("k1", ("quorum",))] == [
        "k2-quorum-from-k1", "k2-quorum-election-from-k1", "k3-quorum-from-k1", "k3-quorum-election-from-k1"]
    assert routes.sent_by("b1", ("replication", "client")) == []


def test_brokers_advertise_their_proxies_and_reach_keepers_through_keeper_proxies_of_their_own():
    keepers, brokers = _cluster(3, 3)
    routes = _routes(keepers, brokers)
    properties = parse(configs.broker_properties(brokers[1], keepers, 3, "/node/data", {}, routes))
    assert properties["listeners"] == "CLIENT://10.213.7.22:9092,REPLICATION://10.213.7.22:9093"
    assert properties["advertised.listeners"] == (f"CLIENT://{routes.listen('b2', 'client')},"
                                                  f"REPLICATION://{routes.listen('b2', 'replication')}")
    assert properties["listener.security.protocol.map"] == "CLIENT:PLAINTEXT,REPLICATION:PLAINTEXT"
    assert properties["inter.broker.listener.name"] == "REPLICATION"
    assert properties["zookeeper.connect"] == ",".join(routes.listen(k.name, "keeper-from-b2") for k in keepers)
    assert configs.keeper_connect(keepers, routes) == ",".join(routes.listen(k.name, "client") for k in keepers)


def test_an_unproxied_broker_keeps_its_single_plaintext_listener():
    keepers, brokers = _cluster(1, 1)
    properties = parse(configs.broker_properties(brokers[0], keepers, 1, "/node/data", {}))
    assert properties["listeners"] == properties["advertised.listeners"] == "PLAINTEXT://10.213.7.21:9092"
    assert "inter.broker.listener.name" not in properties
    assert properties["zookeeper.connect"] == "10.213.7.11:2181"


def test_keeper_reads_a_zoo_cfg_with_its_own_address_and_its_peers_proxies(tmp_path):
    keepers, brokers = _cluster(3, 0)
    routes = _routes(keepers, brokers)
    (tmp_path / "myid").write_text("2\n")
    config = KeeperConfig.from_properties(parse(configs.zoo_cfg(keepers[1], keepers, str(tmp_path), {}, routes)))
    assert (config.me.host, config.me.peer_port, config.me.election_port) == ("10.213.7.12", 2888, 3888)
    for peer in config.peers:
        if peer.id != 2:
            name = f"k{peer.id}"
            assert f"{peer.host}:{peer.peer_port}" == routes.listen(name, "quorum-from-k2")
            assert f"{peer.host}:{peer.election_port}" == routes.listen(name, "quorum-election-from-k2")
