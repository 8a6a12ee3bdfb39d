"""Process faults on real local nodes: kill, pause and restart, their targets, history values and heal."""

from __future__ import annotations

import json
import random

import pytest
from kazoo.client import KazooClient

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.probes import keeper_mode
from nemesis.targets import Locator
from tests.deploy.kafka_io import answers_metadata, produce


@pytest.fixture(scope="module")
def brokers(tmp_path_factory):
    with deploy(ClusterSpec(keepers=0, brokers=3), "local", tmp_path_factory.mktemp("brokers")) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    with deploy(ClusterSpec(keepers=3, brokers=1), "local", tmp_path_factory.mktemp("ensemble")) as deployment:
        yield deployment


def _build(deployment, names, **options):
    return nemesis.build(names, deployment, {"rng": random.Random(3), **options})


def _all_serve(deployment):
    return all(node.is_running() and not node.is_paused() and node.serves() for node in deployment.nodes)


def test_kill_one_then_start_it_again(brokers):
    faults = _build(brokers, ["kill"])
    assert faults.fs == {"start-kill", "stop-kill"}
    done = faults.invoke("start-kill", "one")
    assert done["action"] == "SIGKILL" and len(done["nodes"]) == 1
    (victim,) = done["nodes"]
    assert [n.name for n in brokers.nodes if not n.is_running()] == [victim]
    assert faults.active() == [f"kill {victim}"]
    assert faults.invoke("stop-kill", None) == {"nodes": [victim], "action": "start"}
    assert faults.active() == []
    brokers.node(victim).wait_serving()
    assert _all_serve(brokers)


def test_pause_a_majority_holds_those_nodes_until_heal(brokers):
    faults = _build(brokers, ["pause", "kill"])
    done = faults.invoke("start-pause", "majority")
    paused = done["nodes"]
    assert done["action"] == "pause" and len(paused) == 2
    assert sorted(n.name for n in brokers.nodes if n.is_paused()) == paused
    assert not answers_metadata(brokers.node(paused[0]).address, timeout=2)
    with pytest.raises(nemesis.NemesisError, match="only 1 are free"):
        faults.invoke("start-kill", "majority")
    with pytest.raises(nemesis.NemesisError, match="already held by the pause fault"):
        faults.invoke("start-kill", [paused[0]])
    assert faults.heal() == [{"fault": "pause", "nodes": paused, "action": "resume"}]
    assert faults.active() == []
    assert _all_serve(brokers)


def test_restart_stops_gracefully_and_starts_on_stop(brokers):
    faults = _build(brokers, ["restart"])
    assert faults.invoke("start-restart", ["b2"]) == {"nodes": ["b2"], "action": "SIGTERM"}
    b2 = brokers.node("b2")
    assert not b2.is_running()
    assert "shutting down" in b2.log_text()
    assert faults.invoke("stop-restart", None) == {"nodes": ["b2"], "action": "start"}
    b2.wait_serving()
    assert _all_serve(brokers)


def test_heal_undoes_every_active_fault_and_waits_until_nodes_serve(brokers):
    faults = _build(brokers, ["kill", "pause", "restart"])
    faults.invoke("start-kill", ["b1"])
    faults.invoke("start-pause", ["b2"])
    faults.invoke("start-restart", ["b3"])
    assert sorted(faults.active()) == ["kill b1", "pause b2", "restart b3"]
    undone = faults.heal()
    assert sorted((u["fault"], tuple(u["nodes"])) for u in undone) == [
        ("kill", ("b1",)), ("pause", ("b2",)), ("restart", ("b3",))]
    assert _all_serve(brokers)
    assert faults.heal() == []


def test_the_same_seed_chooses_the_same_victims(brokers):
    def victims(seed):
        faults = nemesis.build(["pause"], brokers, {"seed": seed})
        chosen = [faults.invoke("start-pause", "minority")["nodes"], faults.invoke("stop-pause", None)["nodes"]]
        return chosen + [faults.invoke("start-pause", "majority")["nodes"], faults.heal()[0]["nodes"]]

    assert victims(11) == victims(11)


def test_partition_leader_is_found_through_kafka_metadata(brokers):
    for broker in brokers.brokers:
        produce(broker.address, "nemesis-leader", ["x"])
    faults = _build(brokers, ["kill"], topic="nemesis-leader")
    done = faults.invoke("start-kill", "partition-leader")
    assert len(done["nodes"]) == 1 and brokers.node(done["nodes"][0]).role == "broker"
    assert not brokers.node(done["nodes"][0]).is_running()
    faults.heal()
    with pytest.raises(nemesis.NemesisError, match="has no leader"):
        Locator(brokers, {"topic": "nemesis-leader", "partition": 7}).find("partition-leader")
    with pytest.raises(nemesis.NemesisError, match="needs the option 'topic'"):
        _build(brokers, ["kill"]).invoke("start-kill", "partition-leader")


def test_controller_without_keepers_is_an_honest_error(brokers):
    with pytest.raises(nemesis.NemesisError, match="no keepers"):
        _build(brokers, ["kill"]).invoke("start-kill", "controller")


def test_keeper_leader_is_the_keeper_that_says_mode_leader(ensemble):
    faults = _build(ensemble, ["kill"])
    (leader,) = [k for k in ensemble.keepers if keeper_mode(k.host, k.port) == "leader"]
    assert faults.invoke("start-kill", "keeper-leader") == {"nodes": [leader.name], "action": "SIGKILL"}
    assert not leader.is_running()
    faults.heal()
    assert _all_serve(ensemble)


def test_controller_is_the_broker_named_in_the_controller_znode(ensemble):
    locator = Locator(ensemble, {})
    client = KazooClient(hosts=ensemble.keeper_connect)
    client.start(timeout=20)
    try:
        if client.exists("/controller") is None:
            with pytest.raises(nemesis.NemesisError, match="no /controller"):
                locator.find("controller")
            client.create("/controller", json.dumps({"version": 1, "brokerid": 1, "timestamp": "0"}).encode(),
                          ephemeral=True)
        broker_id = json.loads(client.get("/controller")[0])["brokerid"]
        assert locator.find("controller").node_id == broker_id
    finally:
        client.stop()
        client.close()


def test_heal_goes_on_past_a_node_that_will_not_serve_and_says_so(tmp_path):
    with deploy(ClusterSpec(keepers=0, brokers=2), "local", tmp_path) as deployment:
        faults = _build(deployment, ["kill", "pause"])
        faults.invoke("start-kill", ["b1"])
        faults.invoke("start-pause", ["b2"])
        b1 = deployment.node("b1")
        b1.config_path.write_text(b1.config_path.read_text() + "no.such.property=1\n")
        with pytest.raises(nemesis.NemesisError, match="b1 does not serve again"):
            faults.heal()
        assert not deployment.node("b2").is_paused()
        assert faults.active() == []
