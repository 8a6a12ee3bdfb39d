"""The run that must find loss: under acks=1, isolate-leader makes a leader acknowledge writes that the
follower elected after it never had; the checker reports them as lost, as the configuration allows."""

from __future__ import annotations

from tests.e2e.runs import isolating_run


def test_acks_1_loses_acknowledged_writes_when_the_isolated_leader_is_replaced(tmp_path):
    watched = isolating_run(tmp_path / "store", "1")
    assert watched.code == 0, watched.output  # loss is what acks=1 allows: the claim holds
    lost = watched.anomaly("lost-write")
    assert lost["allowed"] > 0 and lost["forbidden"] == 0, lost
    assert lost["examples"]
