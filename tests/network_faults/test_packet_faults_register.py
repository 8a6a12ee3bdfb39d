"""Claim: the register workload on our keeper stays linearizable (reads sync first) while the keepers lose,
duplicate and reorder each other's packets: every keeper (all-keepers) receives its peers' packets through
the fault, one fault at a time, so the ensemble's quorum traffic itself is what is disturbed."""

from __future__ import annotations

from cluster.packets.process import unavailable_reason
from cluster.deploy.node_cgroups import unavailable_reason as cgroups_unavailable
from tests.e2e.runs import leftovers, logquake_run
from tests.facilities import require

FAULTS = ("packet-loss", "packet-duplicate", "packet-reorder")
RUN = ["--workload", "register", "--brokers", "0", "--keepers", "3", "--register-sync-reads", "--time-limit", "30",
       "--rate", "60", "--concurrency", "4", "--backend", "local", "--nemesis", ",".join(FAULTS),
       "--nemesis-targets", "all-keepers", "--nemesis-interval", "3", "--seed", "SEED",
       "--nemesis-option", "loss-probability=0.3", "--nemesis-option", "duplicate-probability=0.3",
       "--nemesis-option", "reorder-probability=0.3", "--nemesis-option", "reorder-delay-ms=30"]
SEED = "5"
"""A seed whose schedule starts each of the three faults at least once in 30 s."""


def test_register_on_keeper_is_linearizable_under_loss_duplication_and_reordering_between_keepers(tmp_path):
    require(unavailable_reason() is None, "packet faults", unavailable_reason() or "")
    require(cgroups_unavailable() is None, "local packet faults", cgroups_unavailable() or "")
    watched = logquake_run(tmp_path / "store", [SEED if word == "SEED" else word for word in RUN])
    assert watched.code == 0, watched.output
    started = [op["value"] for op in watched.history() if op["process"] == "nemesis" and op["type"] == "ok"
               and op["f"].startswith("start-")]
    assert {value["action"] for value in started} == set(FAULTS), started
    assert all(value["nodes"] == ["k1", "k2", "k3"] for value in started)
    result = watched.results["register"]
    assert result["valid"] is True, result
    assert watched.results["stats"]["by_f"]["write"]["ok"] > 100
    assert not leftovers(watched)
