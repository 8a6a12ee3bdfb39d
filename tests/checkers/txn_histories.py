"""Builds transactional histories in the format of docs/txn-checker.md, for the transactional checker's tests."""

from __future__ import annotations

from typing import Any

from tests.checkers.histories import History

TXN_TEST = {"name": "txn", "workload": "txn", "acks": "all", "idempotence": True, "txn": True,
            "isolation_level": "read_committed", "mode": "assign", "broker_overrides": {}}

Send = tuple[str, int, int, int | None]
"""("send", key, value, offset): a micro-op sent, and the offset its acknowledgement gave (None: none)."""
Poll = tuple[str, dict[int, list[tuple[int, int]]]]
"""("poll", {key: [(offset, value), ...]}): a poll and what it read."""


class TxnHistory(History):
    """Transactions appended in order; `invoke` and `complete` apart let transactions overlap."""

    def invoke(self, process: Any, mops: list[Send | Poll]) -> list[Send | Poll]:
        self.event(process, "invoke", "txn", [asked(mop) for mop in mops])
        return mops

    def complete(self, process: Any, mops: list[Send | Poll], type: str = "ok") -> int:
        if type == "ok":
            return self.event(process, "ok", "txn", [done(mop) for mop in mops])
        return self.event(process, type, "txn", [asked(mop) for mop in mops], "aborted")

    def txn(self, process: Any, mops: list[Send | Poll], type: str = "ok") -> int:
        """One transaction, invoked and completed; returns its completion's index."""
        return self.complete(process, self.invoke(process, mops), type)


def send(key: int, value: int, offset: int | None = None) -> Send:
    return ("send", key, value, offset)


def poll(reads: dict[int, list[tuple[int, int]]]) -> Poll:
    return ("poll", reads)


def asked(mop: Send | Poll) -> list[Any]:
    return ["send", mop[1], mop[2]] if mop[0] == "send" else ["poll"]


def done(mop: Send | Poll) -> list[Any]:
    if mop[0] == "send":
        return ["send", mop[1], [mop[3], mop[2]]]
    return ["poll", {str(key): [[offset, value] for offset, value in records] for key, records in mop[1].items()}]


def information_flow(t0_reads: list[tuple[int, int]]) -> TxnHistory:
    """T0 sends to key 0 and polls key 1, T1 sends to key 1 and reads T0's send: with T0 reading T1's, a G1c."""
    h = TxnHistory()
    t0 = h.invoke(0, [send(0, 1, 0), poll({1: t0_reads})])
    t1 = h.invoke(1, [send(1, 2, 0), poll({0: [(0, 1)]})])
    h.complete(0, t0)
    h.complete(1, t1)
    return h
