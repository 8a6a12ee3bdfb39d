"""Which partition each target makes, on in-memory nodes (where the rules go, what the history says), and which
targets a run refuses before anything is deployed."""

from __future__ import annotations

import random
import re

import pytest

import nemesis
from harness.spec import SpecError
from logquake.registry import WORKLOADS
from tests.nemesis.fake_cluster import FakeDeployment


@pytest.fixture
def cluster(tmp_path):
    return FakeDeployment(tmp_path, disks=False)


def _drops(cluster) -> list[tuple]:
    return [call for call in cluster.calls if call[0] == "drop_packets"]


def test_a_one_way_grudge_drops_only_what_the_leader_receives_from_the_keepers(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(1)})
    done = faults.invoke("start-partition", "b2:all-keepers")
    assert done == {"nodes": ["b2"], "action": "drop", "parameters": {"grudge": "b2:all-keepers"},
                    "grudge": {"b2": ["k1", "k2", "k3"]}}
    assert _drops(cluster) == [("drop_packets", "b2", ["k1", "k2", "k3"], [])]
    assert faults.active() == ["partition b2"]
    assert faults.invoke("stop-partition", None) == {"nodes": ["b2"], "action": "reconnect"}
    assert cluster.calls[-1] == ("reconnect", "b2")


def test_rules_go_to_the_nodes_free_of_other_faults_when_they_can(cluster):
    faults = nemesis.build(["partition", "kill"], cluster, {"rng": random.Random(1), "roles": ("broker",)})
    faults.invoke("start-kill", ["b2"])
    done = faults.invoke("start-partition", "b2:all-keepers")
    assert done["nodes"] == ["k1", "k2", "k3"], "the killed broker cannot hold rules; each keeper drops what it sends"
    assert _drops(cluster) == [("drop_packets", keeper, [], ["b2"]) for keeper in ("k1", "k2", "k3")]
    faults.invoke("stop-partition", None)
    assert faults.invoke("start-partition", "b2:b1;b1:b2")["nodes"] == ["b1"]
    assert _drops(cluster)[-1] == ("drop_packets", "b1", ["b2"], ["b2"])


def test_a_shape_is_drawn_over_every_node_and_named_in_the_history(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(4)})
    done = faults.invoke("start-partition", "bridge")
    assert done["parameters"] == {"shape": "bridge"}
    names = {node.name for node in cluster.nodes}
    dropped = {(sender, receiver) for receiver, senders in done["grudge"].items() for sender in senders}
    applied = {(sender, call[1]) for call in _drops(cluster) for sender in call[2]}
    applied |= {(call[1], receiver) for call in _drops(cluster) for receiver in call[3]}
    assert applied == dropped
    assert len(names - {node for link in dropped for node in link}) == 1, "the bridge alone is on no cut link"
    assert sorted(done["nodes"]) == sorted({call[1] for call in _drops(cluster)})
    faults.heal()
    assert sorted(call[1] for call in cluster.calls if call[0] == "reconnect") == sorted(done["nodes"])


def test_an_escalating_partition_adds_each_stage_s_links_to_those_already_cut(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(1),
                                                    "nemesis_options": {"escalate-after-s": "0"}})
    done = faults.invoke("start-partition", "b2:b1;b1:b2>b2:all-keepers+b1")
    assert done["grudge"] == {"b1": ["b2"], "b2": ["b1", "k1", "k2", "k3"]}
    assert done["parameters"] == {"grudge": "b2:b1;b1:b2>b2:all-keepers+b1", "escalate_after_s": 0}
    assert _drops(cluster) == [("drop_packets", "b1", ["b2"], ["b2"]), ("drop_packets", "b2", ["k1", "k2", "k3"], [])]
    assert done["nodes"] == ["b1", "b2"]
    assert faults.heal() == [{"fault": "partition", "nodes": ["b1", "b2"], "action": "reconnect"}]


def test_a_grudge_naming_a_node_the_cluster_lacks_fails_the_op_and_holds_nothing(cluster):
    faults = nemesis.build(["partition"], cluster, {"rng": random.Random(1)})
    with pytest.raises(nemesis.NemesisError, match="grudge term 'b9'"):
        faults.invoke("start-partition", "b1:b9")
    with pytest.raises(nemesis.NemesisError, match="drops nothing"):
        faults.invoke("start-partition", "b1:b1")
    assert faults.active() == [] and _drops(cluster) == []


@pytest.mark.parametrize("targets", [("majorities-ring", "bridge", "primaries", "minority-third"),
                                     ("partition-leader:all-keepers",), ("b1:b2+b3;b2+b3:b1", "one"),
                                     ("bridge>partition-leader:all-keepers",)])
def test_a_partition_run_takes_shapes_and_grudges_as_targets(targets):
    assert WORKLOADS.spec(nemesis=("partition",), nemesis_targets=targets).nemesis_targets == targets


@pytest.mark.parametrize("change, message", [
    ({"nemesis_targets": ("b1:b2", "b3")}, "nemesis_targets: b3 beside a grudge: targets are split at commas, so join the nodes"),
    ({"nemesis_targets": ("b1:b4",)}, "nemesis_targets: grudge term 'b4' is no node of this cluster (b1..b3, k1..k3)"),
    ({"nemesis_targets": ("b1:b2:b3",)}, "nemesis_targets: grudge 'b1:b2:b3': 'b1:b2:b3' is not DROPPERS:SENDERS"),
    ({"nemesis_targets": ("bridge>b1:b9",)}, "nemesis_targets: grudge term 'b9' is no node of this cluster"),
    ({"nemesis_options": {"escalate-after-s": "-1"}}, "nemesis_options: escalate-after-s='-1': must be at least 0"),
    ({"nemesis_targets": ("bridge",), "nemesis": ("partition", "kill")},
     "nemesis_targets: bridge can only be aimed at by the partition fault alone"),
    ({"nemesis_targets": ("minority-third",), "keepers": 0},
     "nemesis_targets: less than a third of 3 node(s) is no node at all"),
])
def test_bad_partition_targets_are_refused_before_the_run(change, message):
    with pytest.raises(SpecError, match="^" + re.escape(message)):
        WORKLOADS.spec(**{"nemesis": ("partition",), **change})
