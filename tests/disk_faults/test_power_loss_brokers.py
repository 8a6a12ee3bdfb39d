"""Kafka acknowledges an acks=all write once every in-sync replica holds it in its page cache: a power loss
of every broker at once loses it, which the configuration allows, unless each message is flushed first."""

from __future__ import annotations

from tests.disk_faults.runs import POWER_LOSS, QUEUE, disk_run, lost_bytes, power_losses

LOSS_ANOMALIES = ("lost-write", "inconsistent-offsets", "unseen")
"""How a lost acknowledged write shows: never read at all (lost-write), read before the loss and then its
offset given to another value (inconsistent-offsets), or missing from the final reads (unseen)."""


def test_a_power_loss_of_every_broker_loses_acknowledged_unflushed_writes_as_allowed(tmp_path):
    watched = disk_run(tmp_path / "store", [*QUEUE, *POWER_LOSS, "--nemesis-targets", "all-brokers", "--seed", "1"])
    assert watched.code == 0, watched.output  # the loss is allowed: the claim holds
    losses = power_losses(watched)
    assert losses and all(loss["nodes"] == ["b1", "b2", "b3"] for loss in losses)
    assert lost_bytes(watched) > 0
    found = {name: watched.anomaly(name) for name in LOSS_ANOMALIES}
    assert sum(anomaly["allowed"] for anomaly in found.values()) > 0, found
    assert all(anomaly["forbidden"] == 0 for anomaly in found.values()), found
    assert "never flushed" in str([anomaly["examples"] for anomaly in found.values()])


def test_with_every_message_flushed_a_power_loss_of_every_broker_loses_nothing(tmp_path):
    watched = disk_run(tmp_path / "store", [*QUEUE, *POWER_LOSS, "--nemesis-targets", "all-brokers", "--seed", "1",
                                            "--broker-override", "log.flush.interval.messages=1"])
    assert watched.code == 0, watched.output
    assert len(power_losses(watched)) >= 2
    assert watched.anomaly("lost-write")["count"] == 0
    assert acknowledged_before_the_first_power_loss(watched) > 0


def acknowledged_before_the_first_power_loss(watched) -> int:
    """How many sends were acknowledged before power was first lost: what "nothing lost" is then about. Later
    losses may find none, when the brokers of a loaded machine are not serving again within the interval."""
    history = watched.history()
    first = min(op["time"] for op in history if op["process"] == "nemesis" and op["f"] == "start-lose-unsynced")
    return sum(1 for op in history if op.get("f") == "send" and op["type"] == "ok" and op["time"] < first)
