"""A node's name as a target: checked against the cluster's size before a run deploys anything, accepted by
`logquake run` whatever its workload offers, and hitting exactly that node with every kind of node fault."""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import nemesis
from harness.spec import SpecError
from logquake.commands import run_command
from logquake.registry import WORKLOADS
from nemesis.base import NemesisError
from nemesis.targets import check_node_targets
from tests.nemesis.fake_cluster import FakeDeployment


@given(st.integers(0, 9), st.integers(0, 9), st.sampled_from("bk"), st.integers(1, 12))
def test_a_node_name_is_accepted_exactly_when_the_cluster_has_that_node(brokers, keepers, prefix, number):
    name = f"{prefix}{number}"
    if number <= {"b": brokers, "k": keepers}[prefix]:
        check_node_targets(["one", name, "partition-leader"], brokers, keepers)
    else:
        with pytest.raises(SpecError, match=f"^nemesis_targets: {name} is no node of this cluster"):
            check_node_targets(["one", name], brokers, keepers)


@pytest.mark.parametrize(("spec", "targets"), [
    ({"nemesis": ("kill", "pause")}, ("b3", "k1")),
    ({"workload": "register", "brokers": 0, "nemesis": ("kill",)}, ("k2",)),
    ({"nemesis": ("partition",)}, ("b1", "majorities-ring")),
])
def test_runs_take_node_names_whatever_the_workload_offers(spec, targets):
    assert WORKLOADS.spec(**spec, nemesis_targets=targets).nemesis_targets == targets


@pytest.mark.parametrize(("arguments", "message"), [
    (["--nemesis", "kill", "--nemesis-targets", "b4"],
     "nemesis_targets: b4 is no node of this cluster (b1..b3, k1..k3)"),
    (["--workload", "register", "--brokers", "0", "--nemesis", "kill", "--nemesis-targets", "b1"],
     "nemesis_targets: b1 is no node of this cluster (k1..k3)"),
    (["--nemesis", "kill", "--nemesis-targets", "b0"], "b0 not offered by the queue workload here; choose from one, "
                                                       "majority, partition-leader, minority, controller or a node's "
                                                       "name (b1..b3, k1..k3)"),
])
def test_a_node_the_cluster_will_not_have_exits_2_before_any_cluster_starts(tmp_path, arguments, message):
    result = CliRunner().invoke(run_command, [*arguments, "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not any(tmp_path.iterdir())


def _build(deployment, names, **nemesis_options):
    return nemesis.build(names, deployment, {"rng": random.Random(0), "roles": ("broker",), "heal_timeout": 1,
                                             "nemesis_options": nemesis_options})


@pytest.mark.parametrize("fault", ["kill", "restart", "slow-disk", "clock-bump", "partition"])
@pytest.mark.parametrize("name", ["b2", "k3"])
def test_a_node_name_hits_that_node_alone_with_every_kind_of_node_fault(tmp_path, fault, name):
    """A keeper too, though the run's shares draw from the brokers: a name says which node, whatever the pool."""
    cluster = FakeDeployment(tmp_path, clocks=True)
    faults = _build(cluster, [fault])
    done = faults.invoke(f"start-{fault}", name)
    assert done["nodes"] == [name]
    touched = {call[1] for call in cluster.calls if call[0] in ("kill", "stop", "set_faults")}
    assert touched <= {name}
    if fault == "partition":
        assert done["cut_off_from"] == [node.name for node in cluster.nodes if node.name != name]
    if fault == "clock-bump":
        assert [node for node, clock in done["clocks"].items() if clock["offset_ms"]] == [name]
    faults.invoke(f"stop-{fault}", None)
    assert faults.active() == []


def test_a_named_node_another_fault_holds_is_refused(tmp_path):
    cluster = FakeDeployment(tmp_path)
    faults = _build(cluster, ["kill", "slow-disk"])
    faults.invoke("start-slow-disk", "b1")
    with pytest.raises(NemesisError, match="b1 is already held by the slow-disk fault"):
        faults.invoke("start-kill", "b1")
    assert [call for call in cluster.calls if call[0] == "kill"] == []
