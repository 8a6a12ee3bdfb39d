"""Claim: acks=all, RF 3, min ISR 2 loses no acknowledged write while every broker's, then every keeper's, wall
clock is bumped by minutes or strobed by seconds every 10 ms, and no follower leaves the ISR and no keeper session
expires because of it: replica lag, request timeouts and sessions run on monotonic time, which a clock step leaves
alone."""

from __future__ import annotations

from tests.clock_faults.clock_runs import check_clock_run, started_clock_faults
from tests.e2e.runs import THREE_NODES, isr_changes, logquake_run, session_expiries

BROKERS = ("b1", "b2", "b3")
KEEPERS = ("k1", "k2", "k3")
RUN = ["--workload", "queue", "--nemesis", "clock-bump,clock-strobe", "--nemesis-targets", "all-brokers,all-keepers",
       "--nemesis-interval", "3", *THREE_NODES, "--acks", "all", "--time-limit", "25", "--final-time-limit", "20",
       "--rate", "80", "--concurrency", "4", "--seed", "2", "--backend", "local"]
"""Seed 2 draws each fault on each tier once: strobe on the keepers, bump on the keepers, bump on the brokers,
strobe on the brokers, 3 s each (bumps within 10 minutes either way, strobes of 1 to 60 s every 10 ms)."""


def test_clock_bumps_and_strobes_on_brokers_and_keepers_lose_nothing_and_shrink_no_isr(tmp_path):
    watched = logquake_run(tmp_path / "store", RUN)
    assert watched.code == 0, watched.output
    assert set(started_clock_faults(watched)) == {(fault, tier) for fault in ("clock-bump", "clock-strobe")
                                                  for tier in (BROKERS, KEEPERS)}
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.results["queue"]["final_reads"]["complete"] is True
    assert watched.results["stats"]["by_f"]["send"]["ok"] > 200
    assert not [change for change in isr_changes(watched.run_dir) if change[1] < change[0]], \
        f"the ISR shrank under clock faults alone (run {watched.run_dir})"
    assert not session_expiries(watched.run_dir)
    check_clock_run(watched, set(BROKERS + KEEPERS))
