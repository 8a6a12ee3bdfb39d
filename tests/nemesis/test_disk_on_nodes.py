"""The disk faults on real local nodes whose data directories are on fault filesystems: a slow fsync is slow, a
power loss of every broker throws away what they never fsynced and they serve again, a keeper's power loss keeps its
acknowledged znodes, and a corrupted closed segment is a real file of the broker's, changed where the op says."""

from __future__ import annotations

import random

import pytest
from kazoo.client import KazooClient

import nemesis
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.faultfs import fuse_unavailable
from tests.deploy.kafka_io import produce
from tests.facilities import require
from tests.nemesis.disk_checks import fsync_seconds


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = fuse_unavailable()
    require(reason is None, "FUSE", reason or "")
    overrides = {"log.segment.bytes": "2048", "default.replication.factor": "2"}
    spec = ClusterSpec(keepers=1, brokers=2, broker_overrides=overrides, fault_disks=True)
    with deploy(spec, "local", tmp_path_factory.mktemp("disks")) as deployment:
        yield deployment


def _build(deployment, names, **nemesis_options):
    return nemesis.build(names, deployment, {"rng": random.Random(5), "roles": ("broker",), "heal_timeout": 60,
                                             "nemesis_options": nemesis_options})


def test_a_slow_disk_slows_every_fsync_of_its_target_until_stopped(cluster):
    faults = _build(cluster, ["slow-disk"], **{"fsync-delay-ms": "300"})
    b1 = cluster.node("b1")
    faults.invoke("start-slow-disk", ["b1"])
    try:
        assert fsync_seconds(b1.data_directory) >= 0.3
        assert fsync_seconds(cluster.node("b2").data_directory) < 0.3
    finally:
        assert faults.invoke("stop-slow-disk", None) == {"nodes": ["b1"], "action": "clear-faults", "restarted": []}
    assert fsync_seconds(b1.data_directory) < 0.3


def test_a_power_loss_of_every_broker_throws_away_what_they_never_fsynced(cluster):
    produce(cluster.bootstrap_servers, "powered", [f"value-{i:04d}" for i in range(40)])
    faults = _build(cluster, ["lose-unsynced"])
    done = faults.invoke("start-lose-unsynced", "all-brokers")
    assert done["nodes"] == ["b1", "b2"] and not any(node.is_running() for node in cluster.brokers)
    lost_segments = [entry for report in done["lost"].values() for entry in report["files"]
                     if entry["path"].endswith(".log") and entry["lost_bytes"] > 0]
    assert lost_segments, done["lost"]
    assert faults.heal() == [{"fault": "lose-unsynced", "nodes": ["b1", "b2"], "action": "start"}]
    produce(cluster.bootstrap_servers, "powered", ["after"])


def test_a_keepers_power_loss_keeps_what_it_acknowledged(cluster):
    client = KazooClient(hosts=cluster.keeper_connect, timeout=20)
    client.start(timeout=20)
    try:
        client.create("/before-power-loss", b"acknowledged")
    finally:
        client.stop()
        client.close()
    faults = _build(cluster, ["torn-write"])
    assert faults.invoke("start-torn-write", "all-keepers")["nodes"] == ["k1"]
    faults.heal()
    client = KazooClient(hosts=cluster.keeper_connect, timeout=20)
    client.start(timeout=20)
    try:
        assert client.get("/before-power-loss")[0] == b"acknowledged"
    finally:
        client.stop()
        client.close()


def test_corrupt_file_flips_bits_in_a_closed_segment_of_a_stopped_broker(cluster):
    for batch in range(6):  # one batch each: a segment rolls between batches, never inside one
        produce(cluster.bootstrap_servers, "corrupted", [f"{batch}{i:03d}" * 256 for i in range(2)])
    faults = _build(cluster, ["corrupt-file"], bitflips="4")
    b2 = cluster.node("b2")
    done = faults.invoke("start-corrupt-file", ["b2"])
    assert not b2.is_running()
    (corrupted,) = done["corrupted"]
    assert corrupted["kind"] == "closed-segment" and corrupted["how"] == "bitflip" and len(corrupted["offsets"]) == 4
    assert (b2.data_directory / corrupted["path"]).is_file() and corrupted["path"].endswith(".log")
    faults.heal()
    assert b2.is_running()
