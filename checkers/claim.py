"""What a test's configuration promises, and so which queue anomalies break the promise.

A checker that flags every anomaly would call acks=1 runs broken when they lose exactly what acks=1
may lose. The claim says which anomalies the configuration forbids; the rest are still counted and
shown, as "allowed by the configuration".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNCLEAN_ELECTION = "unclean.leader.election.enable"
CLIENTS_RESENDING_ON_LEADER_CHANGE = frozenset({"confluent-kafka"})
"""Clients that send a batch again, whatever `retries` says, when its leader answers NOT_LEADER_OR_FOLLOWER.

librdkafka takes that error as "not persisted" and resends without counting a retry, but a leader
that lost its leadership while an acks=all write waited gives exactly that answer for a write the
new leader may already hold (Kafka's DelayedProduce does the same): so retries=0 does not rule out
duplicates there, only idempotence does. kafka-python counts that resend as a retry."""


@dataclass(frozen=True)
class Claim:
    acks: str
    idempotence: bool
    retries: int | None
    unclean_election: bool
    mode: str
    client: str = "confluent-kafka"

    @classmethod
    def from_test(cls, test: dict[str, Any]) -> Claim:
        overrides = test.get("broker_overrides") or {}
        retries = test.get("retries")
        return cls(
            acks=_acks(test.get("acks", "all")),
            idempotence=bool(test.get("idempotence", False)),
            retries=None if retries is None else int(retries),
            unclean_election=str(overrides.get(UNCLEAN_ELECTION, "false")).strip().lower() == "true",
            mode=str(test.get("mode", "assign")),
            client=str(test.get("client", "confluent-kafka")),
        )

    @property
    def acknowledged_durable(self) -> bool:
        """Every acknowledged send survives: acks=all, and no out-of-sync replica can become leader."""
        return self.acks == "all" and not self.unclean_election

    @property
    def reads_durable(self) -> bool:
        """A record a consumer has read stays at its offset: only an unclean election can undo one."""
        return not self.unclean_election

    @property
    def no_duplicates(self) -> bool:
        """The producer never appends a value twice: idempotence, or no retries (of any kind) to repeat it."""
        return self.idempotence or (self.retries == 0 and self.client not in CLIENTS_RESENDING_ON_LEADER_CHANGE)

    def guarantees(self) -> list[str]:
        """The promises this configuration makes, in words, for results and the report."""
        return [
            ("acknowledged sends are never lost (acks=all, no unclean leader election)"
             if self.acknowledged_durable else
             f"acknowledged sends may be lost (acks={self.acks}"
             f"{', unclean leader election' if self.unclean_election else ''})"),
            ("records consumers read stay at their offsets" if self.reads_durable else
             "records consumers read may be truncated (unclean leader election)"),
            ("no value is appended twice (" + ("idempotent producer" if self.idempotence else "retries=0") + ")"
             if self.no_duplicates else
             "a resent send may be appended twice (no idempotence, "
             + ("retries allowed)" if self.retries != 0 else f"and {self.client} resends after a leader change)")),
            f"consumers {self.mode}; skips and rewinds across polls are checked only while assigned",
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"acks": self.acks, "idempotence": self.idempotence, "retries": self.retries,
                "unclean_leader_election": self.unclean_election, "mode": self.mode, "client": self.client,
                "guarantees": self.guarantees()}


def _acks(value: Any) -> str:
    text = str(value).strip().lower()
    if text in ("all", "-1"):
        return "all"
    if text in ("0", "1"):
        return text
    raise ValueError(f"acks must be 0, 1 or all, not {value!r}")
