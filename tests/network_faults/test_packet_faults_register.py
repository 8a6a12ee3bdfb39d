"""Claim: the register workload on our keeper stays linearizable (reads sync first) while the keepers lose,
duplicate or reorder each other's packets: every keeper (all-keepers) receives its peers' packets through the
fault, so the ensemble's quorum traffic itself is what is disturbed. One run per fault, so that each is sure to
act (a run naming several draws among them at random)."""

from __future__ import annotations

import pytest

from cluster.deploy.node_cgroups import unavailable_reason as cgroups_unavailable
from cluster.packets.process import unavailable_reason
from tests.e2e.runs import leftovers, logquake_run
from tests.facilities import require

RUN = ["--workload", "register", "--brokers", "0", "--keepers", "3", "--register-sync-reads", "--time-limit", "20",
       "--rate", "60", "--concurrency", "4", "--backend", "local", "--nemesis-targets", "all-keepers",
       "--nemesis-interval", "3", "--seed", "5"]
FAULTS = {
    "packet-loss": ["--nemesis-option", "loss-probability=0.3"],
    "packet-duplicate": ["--nemesis-option", "duplicate-probability=0.3"],
    "packet-reorder": ["--nemesis-option", "reorder-probability=0.3", "--nemesis-option", "reorder-delay-ms=30"],
}


@pytest.mark.parametrize("fault", FAULTS)
def test_register_on_keeper_is_linearizable_when_keepers_lose_duplicate_or_reorder_each_others_packets(
        tmp_path, fault):
    require(unavailable_reason() is None, "packet faults", unavailable_reason() or "")
    require(cgroups_unavailable() is None, "local packet faults", cgroups_unavailable() or "")
    watched = logquake_run(tmp_path / "store", [*RUN, "--nemesis", fault, *FAULTS[fault]])
    assert watched.code == 0, watched.output
    started = [op["value"] for op in watched.history()
               if op["process"] == "nemesis" and op["type"] == "ok" and op["f"] == f"start-{fault}"]
    assert len(started) >= 2 and all(value["nodes"] == ["k1", "k2", "k3"] for value in started), started
    result = watched.results["register"]
    assert result["valid"] is True, result
    assert watched.results["stats"]["by_f"]["write"]["ok"] > 100
    assert not leftovers(watched)
