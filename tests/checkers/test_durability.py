"""The durability model: which losses a power loss of the brokers (or keepers) makes allowed.

Kafka acknowledges acks=all writes from the page cache, so a power loss of half or more of a
partition's replicas at once may take acknowledged and read records, unless the brokers flush every
message first (log.flush.interval.messages=1); fewer than half never may. A keeper that does not
fsync (forceSync=no) may lose acknowledged writes after a power loss: that run is still not
linearizable (invalid), but expected by its configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from checkers.claim import Claim
from checkers.log import check_log
from checkers.queue import ANOMALIES, check_queue
from checkers.register import check_register
from tests.checkers.histories import TEST, History
from tests.checkers.test_queue_properties import inject, simulate

BROKERS = ["b1", "b2", "b3"]
POWER_LOSS = {**TEST, "nemesis": ["lose-unsynced", "torn-write"], "brokers": 3, "replication_factor": 3}
FLUSHED = {**POWER_LOSS, "broker_overrides": {"log.flush.interval.messages": "1"}}


def power_loss(h: History, nodes: list[str], fault: str = "lose-unsynced", outcome: str = "ok") -> None:
    """A power loss of `nodes`, and the power coming back."""
    if outcome == "ok":
        h.nemesis(f"start-{fault}", "all-brokers", nodes)
    else:
        h.op("nemesis", f"start-{fault}", "all-brokers", outcome)
    h.nemesis(f"stop-{fault}", None, nodes)


def lost_to_power_loss(nodes: list[str], outcome: str = "ok") -> History:
    """Value 11 acknowledged at offset 1, then the brokers lose power, then 12 takes offset 1."""
    h = History()
    h.send(0, 0, 10, 0)
    h.send(0, 0, 11, 1)
    h.assign(1, [0])
    h.poll(1, {0: [(0, 10)]})
    power_loss(h, nodes, outcome=outcome)
    h.send(0, 0, 12, 1)
    h.assign(99, [0])
    h.poll(99, {0: [(0, 10), (1, 12)]})
    return h


def lost_write(result: dict[str, Any]) -> dict[str, Any]:
    anomaly = result["anomalies"]["lost-write"]
    assert anomaly["count"] == 1, result["anomalies"]
    return anomaly["examples"][0]


def test_a_power_loss_of_every_broker_allows_losing_what_was_never_flushed() -> None:
    result = check_queue(POWER_LOSS, lost_to_power_loss(BROKERS).events)
    example = lost_write(result)
    assert example["forbidden"] is False
    assert example["allowed"] == "acknowledged but never flushed, all replicas lost power"
    assert example["power_loss"]["nodes"] == BROKERS
    assert result["anomalies"]["inconsistent-offsets"]["allowed"] == 1
    assert result["valid"] is True
    assert ("1 lost-write: allowed by this configuration (acknowledged but never flushed, all replicas lost power)"
            in result["reasons"])
    assert result["claim"]["durable_against_power_loss"] is False
    assert any("page cache" in g for g in result["claim"]["guarantees"])


def test_a_majority_of_replicas_losing_power_allows_it_too() -> None:
    example = lost_write(check_queue(POWER_LOSS, lost_to_power_loss(["b1", "b3"]).events))
    assert example["allowed"] == "acknowledged but never flushed, a majority of replicas lost power"


def test_flushing_every_message_forbids_the_loss_and_says_which_guarantee_broke() -> None:
    result = check_queue(FLUSHED, lost_to_power_loss(BROKERS).events)
    example = lost_write(result)
    assert example["forbidden"] is True
    assert "log.flush.interval.messages=1" in example["broke"]
    assert result["valid"] is False
    assert result["claim"]["durable_against_power_loss"] is True
    assert any(reason.startswith("1 lost-write: forbidden by this configuration (broke: acknowledged records are "
                                 "flushed") for reason in result["reasons"])


def test_a_minority_losing_power_must_not_lose_anything() -> None:
    example = lost_write(check_queue(POWER_LOSS, lost_to_power_loss(["b2"]).events))
    assert example["forbidden"] is True
    assert example["broke"] == ("acknowledged records survive crashes and power loss of fewer than half of a "
                                "partition's replicas")


def test_a_power_loss_whose_outcome_is_unknown_names_no_nodes_and_allows_nothing() -> None:
    assert lost_write(check_queue(POWER_LOSS, lost_to_power_loss(BROKERS, outcome="info").events))["forbidden"]


def test_keepers_losing_power_do_not_excuse_a_broker_losing_writes() -> None:
    assert lost_write(check_queue(POWER_LOSS, lost_to_power_loss(["k1", "k2", "k3"]).events))["forbidden"]


def test_a_write_acknowledged_after_the_power_loss_is_not_excused_by_it() -> None:
    h = History()
    h.send(0, 0, 10, 0)
    power_loss(h, BROKERS)
    h.send(0, 0, 11, 1)
    h.send(0, 0, 12, 2)
    h.assign(99, [0])
    h.poll(99, {0: [(0, 10), (2, 12)]})
    example = lost_write(check_queue(POWER_LOSS, h.events))
    assert example["forbidden"] is True and example["value"] == 11


def nodes_down_together(overlapping: bool) -> History:
    """b1 loses power (lose-unsynced), then b2 (torn-write), either before b1's power is back or after."""
    h = History()
    h.send(0, 0, 10, 0)
    h.send(0, 0, 11, 1)
    h.nemesis("start-lose-unsynced", "one", ["b1"])
    if not overlapping:
        h.nemesis("stop-lose-unsynced", None, ["b1"])
    h.nemesis("start-torn-write", "one", ["b2"])
    if overlapping:
        h.nemesis("stop-lose-unsynced", None, ["b1"])
    h.nemesis("stop-torn-write", None, ["b2"])
    h.send(0, 0, 12, 1)
    h.assign(99, [0])
    h.poll(99, {0: [(0, 10), (1, 12)]})
    return h


@pytest.mark.parametrize("overlapping", [True, False])
def test_power_losses_count_together_only_while_their_nodes_are_down_at_once(overlapping: bool) -> None:
    example = lost_write(check_queue(POWER_LOSS, nodes_down_together(overlapping).events))
    assert example["forbidden"] is not overlapping
    if overlapping:
        assert example["power_loss"]["nodes"] == ["b1", "b2"]


def test_runs_without_power_loss_keep_the_claim_they_had() -> None:
    claim = check_queue(TEST, lost_to_power_loss(BROKERS).events)["claim"]
    assert "durable_against_power_loss" not in claim and len(claim["guarantees"]) == 4
    assert "broke" not in lost_write(check_queue(TEST, lost_to_power_loss(BROKERS).events))


def test_the_claim_reads_the_durability_settings_from_the_test() -> None:
    claim = Claim.from_test({**FLUSHED, "keeper_overrides": {"forceSync": "no"}, "target": "zookeeper",
                             "brokers": 5, "replication_factor": 3, "keepers": 3})
    assert (claim.flush_each_message, claim.keeper_fsync, claim.replicas) == (True, False, 3)
    assert claim.power_loss == ("lose-unsynced", "torn-write")
    assert "Apache ZooKeeper" in claim.durability("keeper")
    fsyncing = Claim.from_test({**POWER_LOSS, "target": "zookeeper"})
    assert "never fsyncs a directory" in fsyncing.durability("keeper")
    assert "never fsyncs a directory" not in Claim.from_test(POWER_LOSS).durability("keeper")
    assert not Claim.from_test({**TEST, "broker_overrides": {"log.flush.interval.messages": "10"}}).flush_each_message
    assert Claim.from_test(TEST).keeper_fsync


@settings(max_examples=60)
@given(st.data(), st.sampled_from(ANOMALIES), st.sets(st.sampled_from(BROKERS + ["k1"])),
       st.sampled_from(["ok", "info"]))
def test_a_power_loss_only_ever_allows_what_flushing_would_forbid(data: st.DataObject, anomaly: str,
                                                                   nodes: set[str], outcome: str) -> None:
    sim = simulate(data.draw)
    fault = data.draw(st.sampled_from(["lose-unsynced", "torn-write"]))
    loss_first = data.draw(st.booleans())
    if loss_first:
        power_loss(sim.history, sorted(nodes) or ["b1"], fault, outcome)
    needle = inject(sim, anomaly)
    if not loss_first:
        power_loss(sim.history, sorted(nodes) or ["b1"], fault, outcome)
    sim.final_reads()
    events = sim.history.events
    crash_only, unflushed, flushed = (check_queue(test, events) for test in (TEST, POWER_LOSS, FLUSHED))
    correlated = outcome == "ok" and len(nodes & set(BROKERS)) >= 2
    for name in ANOMALIES:
        count, forbidden = (crash_only["anomalies"][name][k] for k in ("count", "forbidden"))
        assert flushed["anomalies"][name]["forbidden"] == forbidden
        assert unflushed["anomalies"][name]["count"] == count
        assert unflushed["anomalies"][name]["forbidden"] <= forbidden
        if not correlated or name in ("G1a", "duplicate"):
            assert unflushed["anomalies"][name]["forbidden"] == forbidden
        for example in unflushed["anomalies"][name]["examples"]:
            if "allowed" in example:
                assert example["forbidden"] is False and len(set(example["power_loss"]["nodes"])) >= 2
            if example["forbidden"] and name not in ("G1a", "duplicate"):
                assert "broke" in example
            event(f"{name}: {'allowed' if 'allowed' in example else 'forbidden' if example['forbidden'] else 'other'}")
    if correlated and anomaly in ("lost-write", "unseen"):
        injected = [e for e in unflushed["anomalies"][anomaly]["examples"] if e["value"] == needle]
        if loss_first:
            assert injected and injected[0]["forbidden"], "acknowledged after the loss: not excused by it"
        else:
            assert injected and injected[0]["allowed"].startswith("acknowledged but never flushed")


class Registers(History):
    def write(self, process: int, key: int, value: int) -> None:
        self.op(process, "write", {"key": key, "value": value}, "ok", {"key": key, "value": value})

    def read(self, process: int, key: int, value: int | None) -> None:
        self.op(process, "read", {"key": key, "value": None}, "ok", {"key": key, "value": value})


def register_lost_to_power_loss(nodes: list[str]) -> list[dict[str, Any]]:
    """2 is acknowledged over 1, the keepers lose power, then a read finds 1 again."""
    h = Registers()
    h.write(0, 0, 1)
    h.write(0, 0, 2)
    power_loss(h, nodes)
    h.read(1, 0, 1)
    return h.events


REGISTER = {"name": "register", "workload": "register", "register_sync_reads": True, "keepers": 3,
            "nemesis": ["lose-unsynced"]}
NO_FSYNC = {**REGISTER, "keeper_overrides": {"forceSync": "no"}}


def test_a_keeper_that_does_not_fsync_is_expected_to_lose_writes_but_the_run_stays_invalid(tmp_path: Path) -> None:
    result = check_register(NO_FSYNC, register_lost_to_power_loss(["k1", "k2", "k3"]), tmp_path)
    assert result["valid"] is False
    assert result["anomalies"]["nonlinearizable"]["forbidden"] == 1
    assert result["expected"] == ["acknowledged but never fsynced (forceSync=no), all keepers lost power"]
    assert "1 nonlinearizable: expected by this configuration" in result["reasons"][-1]
    assert result["claim"]["durable_against_power_loss"] is False and result["claim"]["force_sync"] is False
    assert any("forceSync=no" in g for g in result["claim"]["guarantees"])


def test_without_fsync_even_one_keeper_losing_power_may_lose_a_write(tmp_path: Path) -> None:
    result = check_register(NO_FSYNC, register_lost_to_power_loss(["k2"]), tmp_path)
    assert result["expected"] == [
        "acknowledged but never fsynced (forceSync=no), a minority of keepers (k2) lost power"]


def test_a_keeper_that_fsyncs_broke_its_guarantee(tmp_path: Path) -> None:
    result = check_register(REGISTER, register_lost_to_power_loss(["k1", "k2", "k3"]), tmp_path)
    assert result["valid"] is False and "expected" not in result
    assert result["reasons"][-1] == ("1 nonlinearizable: forbidden (broke: acknowledged writes are fsynced before "
                                     "they are acknowledged, so they survive power loss of every keeper)")
    assert result["claim"]["durable_against_power_loss"] is True


def test_a_linearizable_register_after_power_loss_is_valid_whatever_fsync_says(tmp_path: Path) -> None:
    h = Registers()
    h.write(0, 0, 1)
    power_loss(h, ["k1", "k2", "k3"])
    h.read(1, 0, 1)
    for test in (REGISTER, NO_FSYNC):
        result = check_register(test, h.events, tmp_path)
        assert result["valid"] is True and "expected" not in result, result["reasons"]


def test_the_log_workload_is_expected_to_lose_unflushed_appends_when_every_broker_loses_power(tmp_path: Path) -> None:
    h = History()
    h.op(0, "append", {"partition": 0, "value": 10}, "ok", {"partition": 0, "value": 10, "offset": 0})
    power_loss(h, BROKERS)
    h.op(1, "append", {"partition": 0, "value": 11}, "ok", {"partition": 0, "value": 11, "offset": 0})
    test = {**POWER_LOSS, "workload": "log"}
    unflushed = check_log(test, h.events, tmp_path)
    flushed = check_log({**test, "broker_overrides": {"log.flush.interval.messages": "1"}}, h.events, tmp_path)
    assert unflushed["valid"] is False and flushed["valid"] is False
    assert unflushed["expected"] == ["acknowledged but never flushed, all replicas lost power"]
    assert "expected" not in flushed and "log.flush.interval.messages=1" in flushed["reasons"][-1]
