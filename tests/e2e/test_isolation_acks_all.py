"""The schedule that loses writes under acks=1 (test_isolation_acks1.py) loses nothing under acks=all:
the isolated leader cannot acknowledge what its paused followers do not have."""

from __future__ import annotations

from tests.e2e.runs import isolating_run


def test_acks_all_loses_nothing_when_the_isolated_leader_is_replaced(tmp_path):
    watched = isolating_run(tmp_path / "store", "all")
    assert watched.code == 0, watched.output
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.anomaly("unseen")["count"] == 0
    assert watched.results["queue"]["final_reads"]["complete"] is True
