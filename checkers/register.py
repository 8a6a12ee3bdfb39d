"""The register workload's checker: each key's reads, writes and compare-and-sets against pyporcupine's CAS register.

What is claimed depends on the reads. After a sync, every operation must be linearizable per key:
it takes effect at one instant between its invocation and its completion. Without a sync,
ZooKeeper promises reads less: the server a session talks to may lag behind the leader, so a read
may return an older state, but never one older than the session's own last write (the server
applied that write before answering it). So a key whose history is not linearizable is judged
again with each read allowed to take effect any time after the invocation of its process's last
successful write or cas on the key (or from the start), a slightly weaker bound than ZooKeeper's
that needs no order between operations beyond their intervals: if that is linearizable, the key's
reads were stale in a way ZooKeeper allows (an allowed anomaly); if not, the key is not
linearizable, which is forbidden. Writes and compare-and-sets keep their intervals in both checks.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from checkers.claim import Claim
from checkers.linearizability import (
    CHECK_TIMEOUT,
    WORDS,
    KeyCheck,
    anomaly,
    argument,
    check_keys,
    client_ops,
    key_case,
    overall,
    power_loss_verdict,
    record,
    results,
    visualize,
    with_durability,
)
from harness.history import Event
from pyporcupine import CheckResult, Operation, check_operations
from pyporcupine.formats.records import JepsenOp
from pyporcupine.models import KeyedModel

MODEL = "cas-register"
RULES = {
    "nonlinearizable": "a key's reads, writes and successful cas cannot be put in one order that respects real "
                       "time and the register's rules; always forbidden",
    "stale-read": "reads without sync saw an older value, though not older than their session's earlier writes; "
                  "allowed without --register-sync-reads (ZooKeeper's servers may lag behind the leader)",
}


def check_register(test: dict[str, Any], history: list[Event], out_dir: Path) -> dict[str, Any]:
    """{"valid", "reasons", "claim", "anomalies", "keys": {key: verdict}, "summary", "visualization"}."""
    sync_reads = bool(test.get("register_sync_reads", False))
    deadline = time.monotonic() + CHECK_TIMEOUT
    model, checks, info = check_keys(MODEL, _records(history), deadline)
    result = overall(check.result for check in checks)
    visualization = visualize(model, result, info, out_dir, f"{test.get('name', 'register')}: {MODEL} per key")
    illegal = [check for check in checks if check.result is CheckResult.ILLEGAL]
    stale = set() if sync_reads else {check.key for check in illegal
                                      if _linearizable_with_stale_reads(model, check, deadline)}
    broken = [key_case(check) for check in illegal if check.key not in stale]
    anomalies = {"nonlinearizable": anomaly(RULES["nonlinearizable"], broken, True),
                 "stale-read": anomaly(RULES["stale-read"], [key_case(c) for c in illegal if c.key in stale], False)}
    words = {check.key: "stale reads (allowed without sync)" if check.key in stale else WORDS[check.result]
             for check in checks}
    config = Claim.from_test(test)
    claim = with_durability({"sync_reads": sync_reads, "guarantees": _guarantees(sync_reads)}, config, "keeper")
    return power_loss_verdict(results(MODEL, checks, anomalies, words, claim, visualization), config, history,
                              "keeper")


def _records(history: list[Event]) -> list[JepsenOp]:
    """Invocations carry {"key", "value"}; a read's ok completion carries the value read."""
    records = []
    for op in client_ops(history):
        asked = argument(op, op.invoke["value"], ("key", "value"))
        done = op.completion["value"] if op.type == "ok" and op.completion else None
        result = None if done is None else argument(op, done, ("value",))["value"]
        records.append(record(op, asked["key"], asked["value"], result))
    return records


def _linearizable_with_stale_reads(model: KeyedModel, check: KeyCheck, deadline: float) -> bool:
    remaining = deadline - time.monotonic()
    return remaining > 0 and check_operations(model, stale_reads(check.operations), timeout=remaining) is \
        CheckResult.OK


def stale_reads(operations: list[Operation]) -> list[Operation]:
    """Each read's call moved back to the call of its process's last write or cas before it (or to the start)."""
    since: dict[Any, float] = {}
    relaxed = []
    for op in sorted(operations, key=lambda op: op.call):
        if op.input[1][0] == "read":
            relaxed.append(replace(op, call=since.get(op.client_id, 0)))
            continue
        if op.return_time is not None:
            since[op.client_id] = op.call
        relaxed.append(op)
    return relaxed


def _guarantees(sync_reads: bool) -> list[str]:
    if sync_reads:
        return ["every read (after a sync), write and successful cas of a key is linearizable"]
    return ["every write and successful cas of a key is linearizable",
            "reads without sync may be stale, but never older than their own session's earlier writes and cas"]
