"""Histories from a simulated log have no anomaly; one injected anomaly of any kind is found.

The simulation is a correct queue: partitions are lists that sends append to (dense offsets),
consumers read contiguous ranges from their positions, and several processes interleave, each op
taking effect between its invoke and its completion. Some sends fail (never appended), some end
in info (appended or not: nobody knows), some ops are still in flight when the main phase ends.
Then final reads: a fresh process assigns every partition from the beginning and polls it all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.queue import ANOMALIES, check_queue
from tests.checkers.histories import TEST, History

PARTITIONS = (0, 1)
SLOTS = 3
SEEDED = 4
"""Partition 0 starts with this many records, so that every injection has offsets to work with."""
RESENDING = {**TEST, "client": "confluent-kafka", "idempotence": False, "retries": 0}
"""Without idempotence, librdkafka's resends on a leader change may duplicate (checkers.claim)."""


@dataclass
class Pending:
    f: str
    asked: Any
    applied: bool = False
    result: Any = None


@dataclass
class Simulation:
    draw: Any
    history: History = field(default_factory=History)
    logs: dict[int, list[int]] = field(default_factory=lambda: {p: [] for p in PARTITIONS})
    positions: dict[Any, dict[int, int]] = field(default_factory=dict)
    pending: dict[Any, Pending] = field(default_factory=dict)
    slots: list[int] = field(default_factory=lambda: list(range(SLOTS)))
    next_process: int = SLOTS
    next_value: int = 0
    resends: bool = False
    """A send may be appended a second time before it completes, the second acknowledged: librdkafka resends a
    batch its leader answered NOT_LEADER_OR_FOLLOWER for, which the new leader may already hold."""

    def fresh_value(self) -> int:
        self.next_value += 1
        return self.next_value

    def fresh_process(self) -> int:
        self.next_process += 1
        return self.next_process

    def step(self) -> None:
        slot = self.draw(st.integers(0, SLOTS - 1))
        process = self.slots[slot]
        op = self.pending.get(process)
        if op is None:
            self.invoke(process, self.draw(st.sampled_from(["send", "send", "poll", "poll", "assign"])))
        elif not op.applied and self.draw(st.integers(0, 3)):
            self.apply(process, op)
        else:
            self.complete(slot, op, self.draw(st.sampled_from(["ok", "ok", "ok", "info", "fail"])))

    def invoke(self, process: int, f: str) -> None:
        asked: Any = None
        if f == "send":
            asked = {"partition": self.draw(st.sampled_from(PARTITIONS)), "value": self.fresh_value()}
        elif f == "assign":
            asked = list(PARTITIONS)
        self.history.event(process, "invoke", f, asked)
        self.pending[process] = Pending(f, asked)

    def apply(self, process: int, op: Pending) -> None:
        op.applied = True
        position = self.positions.setdefault(process, dict.fromkeys(PARTITIONS, 0))
        if op.f == "send":
            log = self.logs[op.asked["partition"]]
            log.append(op.asked["value"])
            op.result = {**op.asked, "offset": len(log) - 1}
        elif op.f == "assign":
            for p in PARTITIONS:
                position[p] = self.draw(st.integers(0, len(self.logs[p])))
            op.result = op.asked
        else:
            op.result = {}
            for p in PARTITIONS:
                end = min(len(self.logs[p]), position[p] + self.draw(st.integers(0, 3)))
                if end > position[p] or self.draw(st.booleans()):
                    op.result[str(p)] = [[o, self.logs[p][o]] for o in range(position[p], end)]
                position[p] = end

    def complete(self, slot: int, op: Pending, outcome: str) -> None:
        """ok needs the op applied; fail needs it not applied (a definite refusal, sends only)."""
        process = self.slots[slot]
        if outcome == "fail" and (op.applied or op.f != "send"):
            outcome = "info"
        if outcome == "ok" and not op.applied:
            self.apply(process, op)
        elif outcome == "ok" and op.f == "send" and self.resends and self.draw(st.booleans()):
            self.resend(op)
        result = op.result if outcome == "ok" else op.asked
        self.history.event(process, outcome, op.f, result, None if outcome == "ok" else "boom")
        del self.pending[process]
        if outcome == "info":
            self.slots[slot] = self.fresh_process()

    def resend(self, op: Pending) -> None:
        """The send's first append stays unacknowledged; a second one, later, is what the producer hears of."""
        log = self.logs[op.asked["partition"]]
        log.append(op.asked["value"])
        op.result = {**op.asked, "offset": len(log) - 1}

    def seed(self) -> None:
        for _ in range(SEEDED):
            self.invoke(0, "send")
            self.pending[0].asked["partition"] = 0
            self.complete(0, self.pending[0], "ok")

    def end_main_phase(self) -> None:
        """Ops in flight stay in flight or end now; either way nothing completes later."""
        for slot, process in enumerate(list(self.slots)):
            op = self.pending.get(process)
            if op is not None and self.draw(st.booleans()):
                self.complete(slot, op, self.draw(st.sampled_from(["ok", "info", "fail"])))

    def final_reads(self) -> None:
        reader = self.fresh_process()
        self.history.op(reader, "assign", list(PARTITIONS), "ok", list(PARTITIONS))
        for p in PARTITIONS:
            log, start = self.logs[p], 0
            while start < len(log):
                end = min(len(log), start + self.draw(st.integers(1, 5)))
                self.history.op(reader, "poll", None, "ok", {str(p): [[o, log[o]] for o in range(start, end)]})
                start = end


def simulate(draw: Any, resends: bool = False) -> Simulation:
    sim = Simulation(draw, resends=resends)
    sim.seed()
    for _ in range(draw(st.integers(0, 60))):
        sim.step()
    sim.end_main_phase()
    return sim


@settings(max_examples=100)
@given(st.data())
def test_a_correct_queue_shows_no_anomaly(data: st.DataObject) -> None:
    sim = simulate(data.draw)
    sim.final_reads()
    result = check_queue(TEST, sim.history.events)
    assert {name: a["count"] for name, a in result["anomalies"].items() if a["count"]} == {}
    assert result["valid"] is True
    assert result["final_reads"]["complete"] is True


@settings(max_examples=100)
@given(st.data())
def test_a_correct_queue_with_resends_shows_only_the_duplicates_the_client_allows(data: st.DataObject) -> None:
    sim = simulate(data.draw, resends=True)
    sim.final_reads()
    result = check_queue(RESENDING, sim.history.events)
    assert {name for name, a in result["anomalies"].items() if a["count"]} <= {"duplicate"}
    assert result["anomalies"]["duplicate"]["forbidden"] == 0
    assert result["valid"] is True


def inject(sim: Simulation, anomaly: str) -> Any:
    """Adds ops by fresh processes that show the anomaly; returns the value or op index to look for."""
    h, log = sim.history, sim.logs[0]
    n, fresh = len(log), sim.fresh_value()
    ok_send = lambda process, value, offset: h.send(process, 0, value, offset)  # noqa: E731
    if anomaly == "lost-write":
        ok_send(sim.fresh_process(), fresh, 0)
        return fresh
    if anomaly == "unseen":
        ok_send(sim.fresh_process(), fresh, n)
        return fresh
    if anomaly == "duplicate":
        h.poll(sim.fresh_process(), {0: [(n, log[0])]})
        return log[0]
    if anomaly == "inconsistent-offsets":
        return h.poll(sim.fresh_process(), {0: [(0, fresh)]})
    if anomaly == "G1a":
        h.send(sim.fresh_process(), 0, fresh, type="fail")
        h.poll(sim.fresh_process(), {0: [(n, fresh)]})
        return fresh
    if anomaly == "nonmonotonic-send":
        process = sim.fresh_process()
        ok_send(process, fresh, n + 1)
        return ok_send(process, sim.fresh_value(), n)
    process = sim.fresh_process()
    h.assign(process, [0])
    reads = {"poll-skip": [[(0, log[0])], [(2, log[2])]],
             "nonmonotonic-poll": [[(1, log[1])], [(1, log[1])]],
             "int-poll-skip": [[(0, log[0]), (2, log[2])]],
             "int-nonmonotonic-poll": [[(1, log[1]), (0, log[0])]]}[anomaly]
    return [h.poll(process, {0: records}) for records in reads][-1]


def mentions(example: dict[str, Any], needle: Any) -> bool:
    """Whether the needle (a value or an op index) appears anywhere in the example."""
    if isinstance(example, dict):
        return any(mentions(v, needle) for k, v in example.items() if k in ("value", "index") or isinstance(v, (dict, list)))
    if isinstance(example, list):
        return any(mentions(v, needle) for v in example)
    return example == needle


@settings(max_examples=100)
@given(st.data(), st.sampled_from(ANOMALIES))
def test_one_injected_anomaly_is_found(data: st.DataObject, anomaly: str) -> None:
    sim = simulate(data.draw)
    needle = inject(sim, anomaly)
    sim.final_reads()
    result = check_queue(TEST, sim.history.events)
    found = result["anomalies"][anomaly]
    assert found["forbidden"] >= 1
    assert any(mentions(example, needle) for example in found["examples"]), found["examples"]
    assert result["valid"] is False
    assert json.loads(json.dumps(result)) == result, "results go to results.json unchanged"
