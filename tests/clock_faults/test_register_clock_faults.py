"""Claim: registers on our keeper and on Apache ZooKeeper stay linearizable (reads sync first) while the keepers'
wall clocks are bumped, skewed and strobed, and no session expires for it: both stamp znodes with the leader's wall
clock but time sessions, elections and quorum traffic on monotonic clocks."""

from __future__ import annotations

import pytest

from cluster.deploy.keeper_ensemble import unavailable_reason
from tests.clock_faults.clock_runs import check_clock_run, started_clock_faults
from tests.e2e.runs import logquake_run, session_expiries
from tests.facilities import require

RUN = ["--workload", "register", "--brokers", "0", "--keepers", "3", "--register-sync-reads",
       "--nemesis", "clock-bump,clock-strobe,clock-skew", "--nemesis-targets", "all-keepers,keeper-leader,majority",
       "--nemesis-interval", "3", "--time-limit", "20", "--rate", "60", "--concurrency", "4", "--seed", "150",
       "--backend", "local"]
"""Seed 150 draws a bump of every keeper, a skew of two and a strobe of every keeper, 3 s each."""


@pytest.mark.parametrize("target", ["keeper", "zookeeper"])
def test_registers_stay_linearizable_under_clock_bumps_skews_and_strobes(tmp_path, target):
    require(unavailable_reason(target) is None, target, unavailable_reason(target) or "")
    watched = logquake_run(tmp_path / "store", [*RUN, "--target", target])
    assert watched.code == 0, watched.output
    started = started_clock_faults(watched)
    assert {fault for fault, _ in started} == {"clock-bump", "clock-skew", "clock-strobe"}, started
    assert ("clock-bump", ("k1", "k2", "k3")) in started
    result = watched.results["register"]
    assert result["valid"] is True, result
    assert watched.results["stats"]["by_f"]["write"]["ok"] > 100
    assert not session_expiries(watched.run_dir)
    check_clock_run(watched, {"k1", "k2", "k3"})
