"""Jepsen's total-queue analysis of an AMQP queue history: every message enqueued, every message dequeued, compared.

Values are unique integers. An enqueue is confirmed (ok), nacked (fail) or of unknown outcome
(info); every dequeue or drain that got a message carries it, even one whose ack's fate is unknown
(the message was delivered, whatever happens to it next). Then:
- lost: confirmed, never delivered: forbidden by the claim (checkers.claim.AmqpClaim), once the final
  drain saw the queue empty (without that, a message may only be late, and the verdict is unknown);
- unexpected: delivered, never enqueued: always forbidden;
- duplicated: delivered more than once: allowed (at-least-once delivery), counted;
- recovered: an enqueue of unknown outcome whose message was delivered: allowed, counted;
- nacked-delivered: a nacked enqueue whose message was delivered (a nack says the broker may not have
  it, not that it does not): allowed, counted;
- reordered: a message first delivered after a later one of its producer (checkers.amqp_order):
  forbidden where the claim promises per-producer order.
Linear in the history, but for the order check's sort per producer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from checkers.amqp_order import reordered
from checkers.claim import AmqpClaim
from harness.history import COMPLETIONS, Event, HistoryError, Op, pair

EXAMPLES = 8
"""Values shown per anomaly; counts are always complete."""

RULES = {
    "lost": "a confirmed enqueue whose message no dequeue or drain ever got; invalid once the final drain emptied "
            "the queue, unknown without it",
    "unexpected": "a message got that no enqueue ever sent; always invalid",
    "duplicated": "a message got more than once; allowed (at-least-once delivery)",
    "recovered": "an enqueue of unknown outcome whose message was got; allowed",
    "nacked-delivered": "a nacked enqueue whose message was got; allowed (a nack does not say the broker dropped it)",
    "reordered": "a confirmed message first got after a message its producer published later, with no lost get to "
                 "explain it; invalid where the queue type promises per-producer order",
}
FORBIDDEN = {"lost", "unexpected", "reordered"}
"""Forbidden unless the claim allows them (AmqpClaim.allowed_anomalies)."""


def check_total_queue(test: dict[str, Any], history: list[Event]) -> dict[str, Any]:
    """{"valid", "reasons", "claim", "anomalies", "summary"}, as the Kafka queue checker's."""
    claim = AmqpClaim.from_test(test)
    ops = pair(history)
    enqueued: dict[str, set[int]] = {outcome: set() for outcome in COMPLETIONS}
    for op in ops:
        if op.f == "enqueue":
            enqueued[op.type].add(_integer(op, op.invoke_value))
    got = {op.index: _got(op) for op in ops if op.f in ("dequeue", "drain")}
    delivered = Counter(value for values in got.values() for value in values)
    drained = any(op.f == "drain" and op.type == "ok" for op in ops)
    attempted = set().union(*enqueued.values())
    found = {
        "lost": enqueued["ok"] - delivered.keys(),
        "unexpected": delivered.keys() - attempted,
        "duplicated": {value for value, count in delivered.items() if count > 1},
        "recovered": enqueued["info"] & delivered.keys(),
        "nacked-delivered": enqueued["fail"] & delivered.keys(),
        "reordered": reordered(ops, got),
    }
    forbidden = FORBIDDEN - set(claim.allowed_anomalies())
    anomalies = {name: _anomaly(name, values, name in forbidden and (name != "lost" or drained), delivered)
                 for name, values in found.items()}
    summary = {"enqueues": {outcome: len(values) for outcome, values in enqueued.items()},
               "delivered": sum(delivered.values()), "distinct_delivered": len(delivered), "drained": drained}
    reasons = _reasons(anomalies, drained) + ([] if enqueued["ok"] else ["no enqueue was confirmed: nothing to check"])
    return {"valid": _verdict(anomalies, drained, found, len(enqueued["ok"])), "reasons": reasons,
            "claim": claim.to_dict(), "anomalies": anomalies, "summary": summary}


def _got(op: Op) -> list[int]:
    """The messages an op got: a dequeue's one (or none: the queue was empty), a drain's list."""
    value = op.value
    if value is None:
        return []
    values = value if op.f == "drain" else [value]
    if not isinstance(values, list):
        raise HistoryError(f"op {op.index}: a drain's value must be a list, not {value!r:.80}")
    return [_integer(op, v) for v in values]


def _integer(op: Op, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise HistoryError(f"op {op.index}: an AMQP message is an integer, not {value!r:.80}")
    return value


def _anomaly(name: str, values: set[int], forbidden: bool, delivered: Counter[int]) -> dict[str, Any]:
    shown = sorted(values)[:EXAMPLES]
    examples = [{"value": value, **({"times": delivered[value]} if name == "duplicated" else {}),
                 "forbidden": forbidden} for value in shown]
    return {"count": len(values), "forbidden": len(values) if forbidden else 0,
            "allowed": 0 if forbidden else len(values), "rule": RULES[name], "examples": examples}


def _verdict(anomalies: dict[str, dict[str, Any]], drained: bool, found: dict[str, set[int]],
             confirmed: int) -> bool | str:
    if any(a["forbidden"] for a in anomalies.values()):
        return False
    if found["lost"] and not drained:
        return "unknown"
    return True if confirmed else "unknown"


def _reasons(anomalies: dict[str, dict[str, Any]], drained: bool) -> list[str]:
    reasons = [f"{a['forbidden']} {name}: {a['rule']}" for name, a in anomalies.items() if a["forbidden"]]
    reasons += [f"{a['allowed']} {name} (allowed)" for name, a in anomalies.items() if a["allowed"]]
    if anomalies["lost"]["count"] and not drained:
        reasons.append(f"{anomalies['lost']['count']} confirmed message(s) not got, and no drain emptied the queue: "
                       "lost, or only late")
    return reasons
