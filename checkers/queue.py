"""The queue checker: names Jepsen's Kafka anomalies in a send/poll history.

Every value is unique, so a (partition, offset, value) seen by a send acknowledgement or a poll is
evidence about the log. From all of it the checker builds each partition's version order: every
known offset ranked densely, so "skipped" means an offset that exists was jumped over. Sends whose
outcome is unknown (info) are neither acknowledged nor failed: they enter the order only through
the reads that saw them. Each anomaly case is marked forbidden or allowed by the test's claim
(checkers.claim); the run is invalid only when a forbidden case exists. In runs that cut power, a
case of lost or undone records also says which guarantee it broke, or which power loss the
configuration lets take them. Records that retention deleted are neither lost nor skipped
(checkers.retention): the final reads' log starts tell them apart.

All passes are linear in the history (plus sorting each partition's offsets, and a bisection in them for
each step between two reads that is not to the next offset).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from checkers.claim import Claim, Judge, Judgement
from checkers.queue_ops import Poll, Send, parse_poll, parse_send
from checkers.queue_order import VersionOrder, Witnesses
from checkers.retention import Retention
from harness.history import COMPLETIONS, Event, Op, pair

EXAMPLES = 8
"""Examples kept per anomaly; counts are always complete."""

SKIPPED_SHOWN = 8

RULES = {
    "lost-write": "an acknowledged send, at or below the highest offset any poll read in its partition and not "
                  "below its log start (retention's), that no poll ever read; invalid under acks=all without unclean "
                  "leader election",
    "unseen": "an acknowledged send that no poll ever read, above everything read and not below its log start "
              "(lost, or only late); invalid under acks=all once final reads were attempted, unknown without them",
    "duplicate": "one value at several offsets; invalid with an idempotent producer, or retries=0 on kafka-python",
    "inconsistent-offsets": "one offset of a partition with several values, from sends or polls; invalid when "
                            "two values were read there, or under acks=all when an acknowledgement disagrees",
    "G1a": "a poll read a value whose send definitely failed (aborted read); always invalid",
    "poll-skip": "a consumer's next poll of a partition jumped over offsets that exist (not only ones below the log "
                 "start); invalid while assigned",
    "nonmonotonic-poll": "a consumer's next poll of a partition went back or repeated; invalid while assigned",
    "int-poll-skip": "one poll's records of a partition jump over offsets that exist (not only ones below the "
                     "log start); invalid unless unclean leader election",
    "int-nonmonotonic-poll": "one poll's records of a partition go back or repeat; invalid unless unclean "
                             "leader election",
    "nonmonotonic-send": "a process's later send acknowledged at a lower offset of the same partition than its "
                         "earlier one; invalid under acks=all without unclean leader election",
}
ANOMALIES = tuple(RULES)
LOSS = ("lost-write", "unseen", "inconsistent-offsets", "nonmonotonic-send")
"""What losing acknowledged records looks like: the anomalies a configuration that may lose them allows."""
TRUNCATION = ("int-poll-skip", "int-nonmonotonic-poll")
"""What undoing read records (an unclean election's truncation) looks like inside one poll."""


def allowed_anomalies(claim: Claim) -> tuple[str, ...]:
    """The anomalies this configuration lets a run show, whatever the run does: those a fault could find without
    breaking the claim (acks below all or an unclean election lose records, a power loss of unflushed replicas
    may take them, retries without idempotence duplicate)."""
    allowed: list[str] = []
    if not claim.acknowledged_durable or (claim.power_loss and not claim.flush_each_message):
        allowed += LOSS
    if not claim.reads_durable:
        allowed += TRUNCATION
    if not claim.no_duplicates:
        allowed.append("duplicate")
    return tuple(name for name in ANOMALIES if name in allowed)


class Findings:
    """Cases per anomaly, each marked forbidden or allowed; keeps counts and the first examples."""

    def __init__(self) -> None:
        self.count = dict.fromkeys(ANOMALIES, 0)
        self.forbidden = dict.fromkeys(ANOMALIES, 0)
        self.examples: dict[str, list[dict[str, Any]]] = {name: [] for name in ANOMALIES}
        self.why: dict[str, Counter[tuple[bool, str]]] = {name: Counter() for name in ANOMALIES}
        """Per anomaly, cases counted by judgement and the guarantee broken or the power loss allowing them."""

    def add(self, anomaly: str, forbidden: bool, case: dict[str, Any]) -> None:
        self.count[anomaly] += 1
        self.forbidden[anomaly] += forbidden
        if len(self.examples[anomaly]) < EXAMPLES:
            self.examples[anomaly].append({**case, "forbidden": forbidden})

    def judged(self, anomaly: str, judgement: Judgement, case: dict[str, Any]) -> None:
        why = judgement.why.get("broke") or judgement.why.get("allowed")
        if why:
            self.why[anomaly][(judgement.forbidden, why)] += 1
        self.add(anomaly, judgement.forbidden, {**case, **judgement.why})


def check_queue(test: dict[str, Any], history: list[Event]) -> dict[str, Any]:
    """The queue workload's verdict: {"valid", "reasons", "claim", "anomalies", "retention", "final_reads",
    "summary"}."""
    claim = Claim.from_test(test)
    ops = pair(history)
    judge = Judge(claim, ops)
    sends = [parse_send(op) for op in ops if op.f == "send"]
    findings = Findings()
    order, steps = _version_order(sends, ops, claim.mode, findings)
    retention = Retention.observed(ops, EXAMPLES)
    final_reads = _final_reads(ops, sends, order, retention)
    _offset_conflicts(order, claim, judge, findings)
    _unread_sends(sends, order, judge, final_reads["attempted"], retention, findings)
    _poll_orders(steps, order, judge, retention, findings)
    _send_orders(sends, judge, findings)
    return _results(claim, findings, retention, final_reads, sends, order)


@dataclass
class _Consumer:
    mode: str
    last: dict[int, tuple[int, Op]] = field(default_factory=dict)
    """Partition -> the offset this consumer's last successful poll read last there, and that poll."""


@dataclass(slots=True)
class _Step:
    """A step between two reads of a partition that is not to the next integer offset: a poll-skip or a step back
    unless no known offset lies between, which is known once every read is in the version order."""

    poll: Op
    partition: int
    before: int
    after: int
    mode: str
    previous_poll: Op | None
    """The consumer's poll that read `before`; None for a step inside one poll."""


def _version_order(sends: list[Send], ops: list[Op], mode: str, findings: Findings) -> tuple[VersionOrder, list[_Step]]:
    """The version order from every acknowledgement and read, and every consumer's steps that may skip or go back,
    in one pass over the ops, which parses each poll as it comes: a long history's polls read millions of records,
    too many to hold parsed. Reads of values whose send failed (G1a) are found on the way. A consumer's positions
    are reset by an assign or subscribe, and by a poll that did not succeed, since it may have consumed records
    nobody saw; `mode` is the claim's, for a consumer that never assigned nor subscribed."""
    order = VersionOrder()
    for send in sends:
        if send.op.type == "ok" and send.offset is not None:
            witnesses = order.witness(send.partition, send.offset, send.value)
            witnesses.sent_by = witnesses.sent_by or send.op
    failed = {send.value: send for send in sends if send.op.type == "fail"}
    consumers: dict[Any, _Consumer] = {}
    steps: list[_Step] = []
    for op in ops:
        if op.f not in ("assign", "subscribe", "poll"):
            continue
        consumer = consumers.get(op.process)
        if consumer is None:
            consumer = consumers[op.process] = _Consumer(mode)
        if op.f != "poll":
            consumer.mode = op.f
            consumer.last.clear()
        elif op.type != "ok":
            consumer.last.clear()
        else:
            _read(parse_poll(op), order, failed, consumer, steps, findings)
    order.finish()
    return order, steps


def _read(poll: Poll, order: VersionOrder, failed: dict[Any, Send], consumer: _Consumer, steps: list[_Step],
          findings: Findings) -> None:
    order.polls += 1
    op = poll.op
    for partition, records in poll.reads.items():
        top = previous = None
        column = order.at.get(partition)
        for offset, value in records:
            if failed and value in failed:
                findings.add("G1a", True, {"partition": partition, "offset": offset, "value": value,
                                           "send": failed[value].op.ref(), "poll": op.ref()})
            if previous is not None and offset != previous + 1:
                steps.append(_Step(op, partition, previous, offset, consumer.mode, None))
            previous = offset
            if top is None or offset > top:
                top = offset
            known = column.get(offset) if column is not None else None
            if known is not None and known.read_by is not None and known.value == value:
                continue  # read before: the usual case, which changes nothing
            witnesses = order.witness(partition, offset, value)
            if witnesses.read_by is None:
                witnesses.read_by = op
            column = order.at[partition]
        if top is None or previous is None:
            continue
        if partition not in order.highest_read or top > order.highest_read[partition][0]:
            order.highest_read[partition] = (top, op)
        if partition in consumer.last:
            last_offset, last_op = consumer.last[partition]
            if records[0][0] != last_offset + 1:
                steps.append(_Step(op, partition, last_offset, records[0][0], consumer.mode, last_op))
        consumer.last[partition] = (previous, op)


def _final_reads(ops: list[Op], sends: list[Send], order: VersionOrder, retention: Retention) -> dict[str, Any]:
    """Final reads were attempted when some process assigned after every send had completed and then
    polled successfully; they are complete when each partition's highest acknowledged offset was read,
    or lies below the partition's log start."""
    last_send = max((s.op.end for s in sends if s.op.end is not None), default=-1)
    assigned_late: set[Any] = set()
    attempted = False
    for op in ops:
        if op.f == "assign" and op.start > last_send:
            assigned_late.add(op.process)
        elif op.f == "poll" and op.type == "ok" and op.process in assigned_late:
            attempted = True
            break
    highest_acknowledged: dict[int, int] = {}
    for send in sends:
        if send.offset is not None:
            highest_acknowledged[send.partition] = max(send.offset, highest_acknowledged.get(send.partition, -1))
    unreached = [{"partition": p, "highest_acknowledged": top,
                  "highest_read": order.highest_read[p][0] if p in order.highest_read else None}
                 for p, top in sorted(highest_acknowledged.items())
                 if (p not in order.highest_read or order.highest_read[p][0] < top)
                 and not retention.below_log_start(p, top)]
    return {"attempted": attempted, "complete": attempted and not unreached, "unreached": unreached}


def _offset_conflicts(order: VersionOrder, claim: Claim, judge: Judge, findings: Findings) -> None:
    for first in sorted(order.conflicted, key=lambda witnesses: (witnesses.partition, witnesses.offset)):
        values = list(order.values_at(first))
        read = [w.value for w in values if w.read_by is not None]
        seen = [op.end for w in values for op in (w.sent_by, w.read_by) if op and op.end is not None]
        acknowledged = [w.sent_by.end for w in values if w.sent_by and w.sent_by.end is not None]
        judgement = (judge.read(max(seen)) if len(read) > 1 else
                     judge.acknowledged(min(acknowledged, default=None), max(seen)))
        findings.judged("inconsistent-offsets", judgement, {
            "partition": first.partition, "offset": first.offset, "values": [w.value for w in values],
            "sources": [{"value": w.value, **_witness_refs(w)} for w in values],
        })
    for value, first in order.first_seen.items():
        if first.other_offset is not None:
            findings.add("duplicate", claim.no_duplicates, {
                "value": value,
                "at": [{"partition": w.partition, "offset": w.offset, **_witness_refs(w)}
                       for w in order.positions(value)],
            })


def _witness_refs(witnesses: Witnesses) -> dict[str, Any]:
    refs = {}
    if witnesses.sent_by is not None:
        refs["sent_by"] = witnesses.sent_by.ref()
    if witnesses.read_by is not None:
        refs["read_by"] = witnesses.read_by.ref()
    return refs


def _unread_sends(sends: list[Send], order: VersionOrder, judge: Judge, final_reads_attempted: bool,
                  retention: Retention, findings: Findings) -> None:
    """Without final reads an unseen send may be only late: it is counted, never judged. One below its
    partition's log start was deleted by retention."""
    for send in sends:
        if send.op.type != "ok" or order.was_read(send.value):
            continue
        case = {"partition": send.partition, "offset": send.offset, "value": send.value, "send": send.op.ref()}
        highest = order.highest_read.get(send.partition)
        if send.offset is not None and retention.below_log_start(send.partition, send.offset):
            retention.deleted_send(case)
        elif send.offset is not None and highest is not None and send.offset <= highest[0]:
            findings.judged("lost-write", judge.acknowledged(send.op.end),
                            {**case, "highest_read": {"offset": highest[0], "poll": highest[1].ref()}})
        elif final_reads_attempted:
            findings.judged("unseen", judge.acknowledged(send.op.end), case)
        else:
            findings.add("unseen", False, case)


def _poll_orders(steps: list[_Step], order: VersionOrder, judge: Judge, retention: Retention,
                 findings: Findings) -> None:
    """Judges the consumers' steps that jumped over known offsets or went back: inside one poll (int-) or from a
    consumer's poll to its next (judged only while assigned)."""
    for step in steps:
        if order.adjacent(step.partition, step.before, step.after):
            continue
        op = step.poll
        if step.previous_poll is None:
            _step(order, step.partition, step.before, step.after, retention, findings, "int-", judge.read(op.end),
                  {"process": op.process, "partition": step.partition, "poll": op.ref()})
        else:
            _step(order, step.partition, step.before, step.after, retention, findings, "",
                  judge.read(op.end) if step.mode == "assign" else Judgement(False),
                  {"process": op.process, "partition": step.partition, "mode": step.mode,
                   "previous_poll": step.previous_poll.ref(), "poll": op.ref()})


def _step(order: VersionOrder, partition: int, before: int, after: int, retention: Retention, findings: Findings,
          prefix: str, judgement: Judgement, case: dict[str, Any]) -> None:
    """Records a step between two reads that is not to the next offset: a skip (or a step over deleted
    records only, which retention explains) or a step back."""
    if after > before:
        skipped = order.between(partition, before, after)
        if retention.below_log_start(partition, skipped[-1]):
            retention.skipped_deleted({**case, "from_offset": before, "to_offset": after, "skipped": len(skipped)})
            return
        findings.judged(prefix + "poll-skip", judgement, {**case, "from_offset": before, "to_offset": after,
                                                          "skipped": len(skipped),
                                                          "skipped_offsets": skipped[:SKIPPED_SHOWN]})
    else:
        findings.judged(prefix + "nonmonotonic-poll", judgement,
                        {**case, "from_offset": before, "to_offset": after})


def _send_orders(sends: list[Send], judge: Judge, findings: Findings) -> None:
    last: dict[tuple[Any, int], Send] = {}
    for send in sends:
        if send.offset is None:
            continue
        key = (send.op.process, send.partition)
        earlier = last.get(key)
        if earlier is not None and earlier.offset is not None and send.offset <= earlier.offset:
            findings.judged("nonmonotonic-send", judge.acknowledged(earlier.op.end, send.op.end), {
                "process": send.op.process, "partition": send.partition,
                "earlier": {"offset": earlier.offset, "value": earlier.value, "send": earlier.op.ref()},
                "later": {"offset": send.offset, "value": send.value, "send": send.op.ref()},
            })
        last[key] = send


def _results(claim: Claim, findings: Findings, retention: Retention, final_reads: dict[str, Any], sends: list[Send],
             order: VersionOrder) -> dict[str, Any]:
    anomalies = {name: {"count": findings.count[name], "forbidden": findings.forbidden[name],
                        "allowed": findings.count[name] - findings.forbidden[name],
                        "rule": RULES[name], "examples": findings.examples[name]} for name in ANOMALIES}
    outcomes = {outcome: sum(s.op.type == outcome for s in sends) for outcome in COMPLETIONS}
    summary = {
        "sends": outcomes,
        "acknowledged_read": sum(s.op.type == "ok" and order.was_read(s.value) for s in sends),
        "unknown_sends_read": sum(s.op.type == "info" and order.was_read(s.value) for s in sends),
        "polls_ok": order.polls,
        "distinct_values_read": order.values_read(),
        "partitions": sorted(order.offsets),
    }
    valid, reasons = _verdict(claim, anomalies, findings.why, final_reads, outcomes["ok"])
    return {"valid": valid, "reasons": reasons + retention.reasons(), "claim": claim.to_dict(),
            "anomalies": anomalies, "retention": retention.to_dict(), "final_reads": final_reads, "summary": summary}


def _verdict(claim: Claim, anomalies: dict[str, dict[str, Any]], why: dict[str, Counter[tuple[bool, str]]],
             final_reads: dict[str, Any], acknowledged: int) -> tuple[bool | str, list[str]]:
    unjudged_unseen = claim.acknowledged_durable and not final_reads["attempted"] and anomalies["unseen"]["count"]
    reasons = [line for name, a in anomalies.items() if a["forbidden"]
               for line in _reasons(name, a["forbidden"], True, why[name])]
    reasons += [line for name, a in anomalies.items() if a["allowed"] and not (name == "unseen" and unjudged_unseen)
                for line in _reasons(name, a["allowed"], False, why[name])]
    if unjudged_unseen:
        reasons.append(f"{anomalies['unseen']['count']} unseen: no final reads, so they may be lost or only late")
    if any(a["forbidden"] for a in anomalies.values()):
        return False, reasons
    if unjudged_unseen:
        return "unknown", reasons
    if not acknowledged:
        return "unknown", reasons + ["no send was acknowledged: nothing to check"]
    return True, reasons


def _reasons(name: str, count: int, forbidden: bool, why: Counter[tuple[bool, str]]) -> list[str]:
    """One line per guarantee broken (or power loss allowing), then one for cases judged by the configuration alone."""
    word = "forbidden" if forbidden else "allowed"
    explained = [(n, text) for (judged, text), n in why.items() if judged == forbidden]
    lines = [f"{n} {name}: {word} by this configuration ({'broke: ' if forbidden else ''}{text})"
             for n, text in explained]
    rest = count - sum(n for n, _ in explained)
    return lines + ([f"{rest} {name}: {word} by this configuration"] if rest else [])
