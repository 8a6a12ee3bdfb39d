"""The disk faults on in-memory nodes (fake_cluster.py): what each start and stop does to which node, in what
order, what the history's values say, claims shared with the process faults, and heal."""

from __future__ import annotations

import random

import pytest

import nemesis
from cluster.faultfs import DiskFaults
from nemesis.base import NemesisError
from tests.nemesis.fake_cluster import FakeDeployment


def _build(deployment, names, rng_seed=1, **nemesis_options):
    return nemesis.build(names, deployment, {"rng": random.Random(rng_seed), "roles": ("broker",),
                                             "heal_timeout": 1, "nemesis_options": nemesis_options})


def _segments(node, sizes):
    partition = node.data_directory / "queue-0"
    partition.mkdir()
    for base, size in sizes.items():
        (partition / f"{base:020d}.log").write_bytes(bytes(range(1, 256))[:size])


def test_slow_disk_puts_its_delays_on_every_target_until_stopped(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["slow-disk"], **{"fsync-delay-ms": "100"})
    assert faults.fs == {"start-slow-disk", "stop-slow-disk"}
    slow = DiskFaults(write_delay=0.005, fsync_delay=0.1)
    assert faults.invoke("start-slow-disk", "all-brokers") == {
        "nodes": ["b1", "b2", "b3"], "action": "set-faults", "faults": slow.to_dict()}
    assert [node.disk.faults for node in cluster.nodes] == [DiskFaults()] * 3 + [slow] * 3
    assert faults.active() == ["slow-disk b1,b2,b3"]
    assert faults.invoke("stop-slow-disk", None) == {"nodes": ["b1", "b2", "b3"], "action": "clear-faults",
                                                     "restarted": []}
    assert all(node.disk.faults == DiskFaults() for node in cluster.nodes)
    assert not [call for call in cluster.calls if call[0] == "start"]


def test_stopping_disk_errors_starts_a_node_that_failed_and_waits_until_it_serves(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["disk-error"], **{"error-probability": "0.5", "error-ops": "fsync"})
    done = faults.invoke("start-disk-error", ["b2", "k1"])
    assert done["faults"] == DiskFaults(error_probability=0.5, error_ops=("fsync",), seed=done["faults"]["seed"]).to_dict()
    again = _build(FakeDeployment(tmp_path / "again"), ["disk-error"], **{"error-probability": "0.5", "error-ops": "fsync"})
    assert again.invoke("start-disk-error", ["b2", "k1"])["faults"]["seed"] == done["faults"]["seed"]
    cluster.node("k1").running = False  # fail-stopped on a failed fsync
    cluster.calls.clear()
    assert faults.invoke("stop-disk-error", None) == {"nodes": ["b2", "k1"], "action": "clear-faults",
                                                      "restarted": ["k1"]}
    assert cluster.calls == [("clear_faults", "b2"), ("clear_faults", "k1"), ("start", "k1"), ("serving", "k1")]


def test_disk_full_sets_the_byte_budget(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["disk-full"], **{"disk-budget-bytes": "4096"})
    done = faults.invoke("start-disk-full", "one")
    (target,) = done["nodes"]
    assert cluster.node(target).disk.faults == DiskFaults(budget=4096) and done["faults"]["budget"] == 4096


@pytest.mark.parametrize(("fault", "torn"), [("lose-unsynced", False), ("torn-write", True)])
def test_a_power_loss_kills_every_target_before_any_loses_its_unsynced_writes(tmp_path, fault, torn):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, [fault])
    done = faults.invoke(f"start-{fault}", "all-brokers")
    assert done["nodes"] == ["b1", "b2", "b3"] and done["action"] == "power-loss"
    assert [call[:2] for call in cluster.calls] == [("kill", "b1"), ("kill", "b2"), ("kill", "b3"),
                                                    ("lose_unsynced", "b1"), ("lose_unsynced", "b2"),
                                                    ("lose_unsynced", "b3")]
    assert {call[2] for call in cluster.calls[3:]} == {torn}
    assert set(done["lost"]) == {"b1", "b2", "b3"}
    assert done["lost"]["b1"]["files"][0]["torn_bytes"] == (2 if torn else 0)
    assert faults.heal() == [{"fault": fault, "nodes": ["b1", "b2", "b3"], "action": "start"}]
    assert all(node.running for node in cluster.nodes)


def test_corrupt_file_stops_the_target_and_flips_bits_in_a_closed_segment(tmp_path):
    cluster = FakeDeployment(tmp_path, disks=False)
    b1 = cluster.node("b1")
    _segments(b1, {0: 100, 40: 60})
    before = (b1.data_directory / "queue-0" / f"{0:020d}.log").read_bytes()
    faults = _build(cluster, ["corrupt-file"], **{"bitflips": "3"})
    done = faults.invoke("start-corrupt-file", ["b1"])
    assert done["nodes"] == ["b1"] and done["action"] == "corrupt" and not b1.running
    (corrupted,) = done["corrupted"]
    assert corrupted["node"] == "b1" and corrupted["path"] == f"queue-0/{0:020d}.log"
    assert corrupted["kind"] == "closed-segment" and corrupted["how"] == "bitflip" and len(corrupted["offsets"]) == 3
    after = (b1.data_directory / "queue-0" / f"{0:020d}.log").read_bytes()
    assert [i for i in range(len(before)) if before[i] != after[i]] == corrupted["offsets"]
    assert faults.invoke("stop-corrupt-file", None) == {"nodes": ["b1"], "action": "start"}
    assert b1.running


def test_corrupt_file_truncates_a_keepers_log_by_default(tmp_path):
    cluster = FakeDeployment(tmp_path)
    k2 = cluster.node("k2")
    (k2.data_directory / "raft.log").write_bytes(b"\x01" * 100)
    faults = _build(cluster, ["corrupt-file"], **{"corrupt-mode": "truncate", "truncate-bytes": "30"})
    done = faults.invoke("start-corrupt-file", ["k2"])
    assert done["corrupted"] == [{"node": "k2", "path": "raft.log", "kind": "keeper-log", "how": "truncate",
                                  "bytes": 30}]
    assert (k2.data_directory / "raft.log").stat().st_size == 70


def test_corrupt_file_without_a_file_of_its_kind_stops_nothing_and_says_what_would_make_one(tmp_path):
    cluster = FakeDeployment(tmp_path)
    _segments(cluster.node("b3"), {0: 10})
    faults = _build(cluster, ["corrupt-file"])
    with pytest.raises(NemesisError, match=r"b3 has no closed-segment file to corrupt in .*log.segment.bytes"):
        faults.invoke("start-corrupt-file", ["b3"])
    assert cluster.calls == [] and faults.active() == []


def test_corrupt_file_of_another_roles_kind_is_refused_before_anything_is_stopped(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["corrupt-file"], **{"corrupt-file": "keeper-snapshot"})
    with pytest.raises(NemesisError, match="b1 is a broker: it keeps no keeper-snapshot files"):
        faults.invoke("start-corrupt-file", ["b1"])
    assert cluster.calls == [] and faults.active() == []


def test_fuse_faults_need_every_node_on_a_fault_filesystem(tmp_path):
    cluster = FakeDeployment(tmp_path, disks=False)
    with pytest.raises(NemesisError, match="needs every node's data directory on a fault filesystem"):
        _build(cluster, ["kill", "lose-unsynced"])
    assert _build(cluster, ["corrupt-file"]).fs == {"start-corrupt-file", "stop-corrupt-file"}


def test_nodes_held_by_a_disk_fault_are_not_chosen_by_another_fault(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["slow-disk", "kill", "lose-unsynced"])
    faults.invoke("start-slow-disk", "majority")
    with pytest.raises(NemesisError, match="only 1 are free"):
        faults.invoke("start-kill", "majority")
    with pytest.raises(NemesisError, match="only 1 are free"):
        faults.invoke("start-lose-unsynced", "all-brokers")
    assert faults.invoke("start-lose-unsynced", "all-keepers")["nodes"] == ["k1", "k2", "k3"]
    undone = faults.heal()
    assert {entry["fault"] for entry in undone} == {"slow-disk", "lose-unsynced"}
    assert all(node.running and node.disk.faults == DiskFaults() for node in cluster.nodes)
