"""The clock faults on in-memory nodes (fake_cluster.py) whose clocks are real control files: what each start does to
its targets' clocks and to no other, what the history's value says of every clock, and that stop and heal give true
time back."""

from __future__ import annotations

import random
import time

import pytest

import nemesis
from cluster.clock import ClockState
from nemesis.base import NemesisError
from tests.nemesis.fake_cluster import FakeDeployment

NODES = ["k1", "k2", "k3", "b1", "b2", "b3"]


@pytest.fixture
def cluster(tmp_path):
    return FakeDeployment(tmp_path, disks=False, clocks=True)


def _build(deployment, names, seed=3, **given):
    return nemesis.build(names, deployment, {"rng": random.Random(seed), "nemesis_options": given})


def _true_time(deployment, names):
    return all(deployment.node(name).clock.state() == ClockState() for name in names)


def test_a_bump_moves_each_targets_clock_by_its_own_amount_and_stop_resets_them(cluster):
    faults = _build(cluster, ["clock-bump"], **{"bump-min-ms": "1000", "bump-max-ms": "600000"})
    started = faults.invoke("start-clock-bump", ["b1", "b2"])
    assert (started["nodes"], started["action"]) == (["b1", "b2"], "bump")
    assert started["parameters"] == {"bump_min_ms": 1000, "bump_max_ms": 600000, "bump_direction": "both"}
    assert sorted(started["clocks"]) == sorted(NODES)
    offsets = {name: cluster.node(name).clock.state().offset_ns / 1e6 for name in ("b1", "b2")}
    assert all(1000 <= abs(offset) <= 600000 for offset in offsets.values()) and offsets["b1"] != offsets["b2"]
    for name in NODES:
        reading = started["clocks"][name]
        assert (reading["offset_ms"], reading["rate"], reading["strobe"]) == (offsets.get(name, 0.0), 1.0, None)
    assert _true_time(cluster, ["k1", "k2", "k3", "b3"])
    assert faults.active() == ["clock-bump b1,b2"]
    stopped = faults.invoke("stop-clock-bump", None)
    assert (stopped["nodes"], stopped["action"]) == (["b1", "b2"], "clock-reset")
    assert all(reading["offset_ms"] == 0 for reading in stopped["clocks"].values())
    assert _true_time(cluster, NODES) and faults.active() == []


def test_the_same_seed_bumps_the_same_nodes_by_the_same_amounts(tmp_path):
    values = []
    for run in ("a", "b"):
        deployment = FakeDeployment(tmp_path / run, disks=False, clocks=True)
        values.append(_build(deployment, ["clock-bump"], seed=11).invoke("start-clock-bump", "majority")["clocks"])
    assert values[0] == values[1]


def test_a_strobe_flips_each_targets_clock_by_its_own_delta_for_its_duration(cluster):
    faults = _build(cluster, ["clock-strobe"], **{"strobe-period-ms": "5", "strobe-duration-ms": "60000",
                                                  "strobe-direction": "backward"})
    started = faults.invoke("start-clock-strobe", ["k2"])
    state = cluster.node("k2").clock.state()
    assert state.strobe_period_ns == 5_000_000 and state.strobe_delta_ns < 0 and state.offset_ns == 0
    assert 0 < state.strobe_until_ns - time.monotonic_ns() <= 60_000_000_000
    strobe = started["clocks"]["k2"]["strobe"]
    assert strobe["delta_ms"] == state.strobe_delta_ns / 1e6 and strobe["period_ms"] == 5
    assert 0 < strobe["remaining_ms"] <= 60000
    assert all(started["clocks"][name]["strobe"] is None for name in NODES if name != "k2")
    faults.invoke("stop-clock-strobe", None)
    assert _true_time(cluster, NODES)


def test_a_strobe_of_no_duration_lasts_until_the_fault_stops(cluster):
    started = _build(cluster, ["clock-strobe"]).invoke("start-clock-strobe", ["b3"])
    assert started["clocks"]["b3"]["strobe"]["remaining_ms"] is None
    assert cluster.node("b3").clock.state().strobing(time.monotonic_ns() + 10**15)


def test_a_skewed_clock_drifts_at_its_rate_from_where_it_was(cluster):
    faults = _build(cluster, ["clock-skew"], **{"skew-min-rate": "3", "skew-max-rate": "3"})
    started = faults.invoke("start-clock-skew", ["b2"])
    assert started["clocks"]["b2"]["rate"] == 3.0 and abs(started["clocks"]["b2"]["offset_ms"]) < 1000
    control = cluster.node("b2").clock
    before, began = control.shift_ns(), time.monotonic_ns()
    time.sleep(0.05)
    drift, elapsed = control.shift_ns() - before, time.monotonic_ns() - began
    assert drift >= 2 * 0.05e9 and drift <= 2 * elapsed + 1e6


def test_heal_gives_every_clock_true_time_once_whichever_faults_were_active(cluster):
    faults = _build(cluster, ["clock-bump", "clock-skew", "kill"])
    faults.invoke("start-clock-bump", ["b1"])
    cluster.node("k3").clock.bump(5_000_000_000)  # a clock off without any fault holding the node
    healed = faults.heal()
    clock_resets = [entry for entry in healed if entry["fault"] == "clock"]
    assert len(clock_resets) == 1 and clock_resets[0]["action"] == "clock-reset"
    assert sorted(clock_resets[0]["nodes"]) == sorted(NODES)
    assert all(reading == {"offset_ms": 0.0, "rate": 1.0, "strobe": None}
               for reading in clock_resets[0]["clocks"].values())
    assert _true_time(cluster, NODES) and faults.active() == []
    assert faults.heal() == []


def test_a_node_under_a_clock_fault_is_held_from_other_faults(cluster):
    faults = _build(cluster, ["clock-bump", "kill"])
    faults.invoke("start-clock-bump", ["b1"])
    with pytest.raises(NemesisError, match="b1 is already held by the clock-bump fault"):
        faults.invoke("start-kill", ["b1"])


def test_a_deployment_that_does_not_shift_clocks_is_refused(tmp_path):
    with pytest.raises(NemesisError, match=r"needs a deployment whose nodes' wall clocks it controls"):
        _build(FakeDeployment(tmp_path, disks=False), ["clock-skew"])
