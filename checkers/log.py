"""The log workload's checker: each partition's appends and reads against pyporcupine's Kafka partition log model.

A partition is one log whose offsets count from 0. Linearizable here means: there is one order of
the appends that may have happened, respecting real time, in which every acknowledged append got
exactly the offset it was told (so offsets of acknowledged appends agree with real-time order and
no acknowledged offset is taken twice), and every read of an offset the client saw below the high
watermark returns the value appended there. An append of unknown outcome may fill an offset or
not; a failed one must not. Under acks=all that is what Kafka claims, so any violation is forbidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkers.claim import Claim
from checkers.linearizability import (
    WORDS,
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
from pyporcupine import CheckResult
from pyporcupine.formats.records import JepsenOp

MODEL = "log"
RULE = ("a partition's appends and reads cannot be put in one order that respects real time, gives every "
        "acknowledged append its offset and every read the value at its offset; forbidden under acks=all")
GUARANTEES = [
    "offsets of acknowledged appends agree with real-time order: an append acknowledged before another was sent "
    "has the lower offset, and every offset holds one append (acks=all)",
    "a read of an offset below the high watermark returns the value appended at that offset",
]


def check_log(test: dict[str, Any], history: list[Event], out_dir: Path) -> dict[str, Any]:
    """{"valid", "reasons", "claim", "anomalies", "keys": {partition: verdict}, "summary", "visualization"}."""
    model, checks, info = check_keys(MODEL, _records(history))
    result = overall(check.result for check in checks)
    visualization = visualize(model, result, info, out_dir, f"{test.get('name', 'log')}: partition logs")
    broken = [key_case(check) for check in checks if check.result is CheckResult.ILLEGAL]
    anomalies = {"nonlinearizable": anomaly(RULE, broken, True)}
    words = {check.key: WORDS[check.result] for check in checks}
    config = Claim.from_test(test)
    claim = with_durability({"guarantees": GUARANTEES}, config, "broker")
    return power_loss_verdict(results(MODEL, checks, anomalies, words, claim, visualization), config, history,
                              "broker")


def _records(history: list[Event]) -> list[JepsenOp]:
    """Appends {"partition", "value"}, acknowledged with their "offset"; reads done {"partition", "offset", "value"}.

    A read that did not complete has no offset, so it says nothing and is left out.
    """
    records = []
    for op in client_ops(history):
        done = op.completion["value"] if op.type == "ok" and op.completion else None
        if op.f == "append":
            asked = argument(op, op.invoke["value"], ("partition", "value"))
            offset = None if done is None else argument(op, done, ("offset",))["offset"]
            records.append(record(op, asked["partition"], asked["value"], offset))
        elif op.f == "read" and done is not None:
            read = argument(op, done, ("partition", "offset", "value"))
            records.append(record(op, read["partition"], read["offset"], read["value"]))
    return records
