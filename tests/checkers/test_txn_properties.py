"""Histories from a simulated transactional log show no forbidden anomaly; one injected anomaly of each forbidden
kind is found.

The simulation is a correct Kafka with transactions, read_committed: each transaction takes effect
at one instant between its invoke and its completion, its sends appended to their keys' logs and
its polls reading, from the process's positions, the committed records only, up to the first record of
an open transaction (its own: the last stable offset), so a poll may stop inside another transaction's
records. A commit or abort marker follows each transaction's records
in every key it wrote, and an aborted transaction's records keep their offsets, unseen: offsets are
sparse, as Kafka's are. Some transactions abort on purpose (fail), some end unknown (info) whether
they took effect or not, and those still in flight at the end never complete. Then final reads of
every key from the start. Allowed anomalies (G1b, G-single, realtime G0 ...) may show; forbidden ones
may not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.txn.checker import check_txn
from tests.checkers.txn_histories import TXN_TEST, Poll, Send, TxnHistory, poll, send

KEYS = (0, 1, 2)
SLOTS = 3
FORBIDDEN = ("G1a", "precommitted-read", "lost-write", "duplicate", "int-nonmonotonic-send", "G1c")


@dataclass
class Record:
    value: int | None
    """None: a marker."""
    writer: int
    committed: bool | None = None
    """None while its transaction is open; then whether it committed."""


@dataclass
class Pending:
    asked: list[Send | Poll]
    done: list[Send | Poll] | None = None
    committed: bool | None = None
    """None while its transaction is open; then whether it committed."""


@dataclass
class Simulation:
    draw: Any
    history: TxnHistory = field(default_factory=TxnHistory)
    logs: dict[int, list[Record]] = field(default_factory=lambda: {k: [] for k in KEYS})
    positions: dict[int, dict[int, int]] = field(default_factory=dict)
    pending: dict[int, Pending] = field(default_factory=dict)
    slots: list[int] = field(default_factory=lambda: list(range(SLOTS)))
    next_process: int = SLOTS
    next_value: int = 0

    def fresh_value(self) -> int:
        self.next_value += 1
        return self.next_value

    def fresh_process(self) -> int:
        self.next_process += 1
        return self.next_process

    def step(self) -> None:
        slot = self.draw(st.integers(0, SLOTS - 1))
        process = self.slots[slot]
        txn = self.pending.get(process)
        if txn is None:
            size = self.draw(st.integers(1, 4))
            mops: list[Send | Poll] = [send(self.draw(st.sampled_from(KEYS)), self.fresh_value())
                                       if self.draw(st.booleans()) else poll({}) for _ in range(size)]
            self.pending[process] = Pending(self.history.invoke(process, mops))
        elif txn.done is None and self.draw(st.integers(0, 3)):
            self.apply(process, txn, commit=self.draw(st.integers(0, 4)) > 0)
        else:
            self.complete(slot, txn, self.draw(st.sampled_from(["ok", "ok", "ok", "info", "fail"])))

    def apply(self, process: int, txn: Pending, commit: bool) -> None:
        """The transaction at one instant: its polls read committed records from the process's positions (kept
        only if it commits), its sends are appended, then a marker in each key it wrote."""
        positions = dict(self.positions.setdefault(process, dict.fromkeys(KEYS, 0)))
        done: list[Send | Poll] = []
        written: list[Record] = []
        for mop in txn.asked:
            if mop[0] == "send":
                log = self.logs[mop[1]]
                written.append(Record(mop[2], process))
                log.append(written[-1])
                done.append(send(mop[1], mop[2], len(log) - 1))
            else:
                done.append(poll(self.read(positions)))
        for key in {mop[1] for mop in txn.asked if mop[0] == "send"}:
            self.logs[key].append(Record(None, process, True))
        for record in written:
            record.committed = commit
        if commit:
            self.positions[process] = positions
        txn.done, txn.committed = done, commit

    def read(self, positions: dict[int, int]) -> dict[int, list[tuple[int, int]]]:
        reads: dict[int, list[tuple[int, int]]] = {}
        for key in KEYS:
            log, limit = self.logs[key], self.draw(st.integers(0, 3))
            records = []
            while positions[key] < len(log) and len(records) < limit and log[positions[key]].committed is not None:
                record = log[positions[key]]
                if record.value is not None and record.committed:
                    records.append((positions[key], record.value))
                positions[key] += 1
            if records:
                reads[key] = records
        return reads

    def complete(self, slot: int, txn: Pending, outcome: str) -> None:
        """ok needs it committed, fail needs it not (aborted, or never applied); anything may end unknown."""
        process = self.slots[slot]
        if txn.done is None and outcome == "ok":
            self.apply(process, txn, commit=True)
        if (outcome == "ok") != txn.committed and outcome != "info":
            outcome = "ok" if txn.committed else "fail"
        if outcome == "ok":
            assert txn.done is not None
            self.history.complete(process, txn.done)
        else:
            self.history.complete(process, txn.asked, outcome)
        del self.pending[process]
        if outcome == "info":
            self.slots[slot] = self.fresh_process()

    def final_reads(self) -> None:
        reader = self.fresh_process()
        for key in KEYS:
            records = [(offset, r.value) for offset, r in enumerate(self.logs[key])
                       if r.value is not None and r.committed]
            self.history.txn(reader, [poll({key: records})])


def simulate(draw: Any) -> Simulation:
    sim = Simulation(draw)
    for _ in range(draw(st.integers(0, 50))):
        sim.step()
    return sim


@settings(max_examples=50)
@given(st.data())
def test_a_correct_transactional_log_shows_no_forbidden_anomaly(data: st.DataObject) -> None:
    sim = simulate(data.draw)
    sim.final_reads()
    result = check_txn(TXN_TEST, sim.history.events)
    assert {name: a["forbidden"] for name, a in result["anomalies"].items() if a["forbidden"]} == {}
    assert result["valid"] in (True, "unknown")


def inject(sim: Simulation, anomaly: str) -> None:
    """Adds transactions by fresh processes, above everything the simulation wrote, that show the anomaly."""
    h, top = sim.history, 1000 + sim.next_value
    a, b = sim.fresh_value() + 1000, sim.fresh_value() + 1000
    if anomaly == "G1a":
        h.txn(sim.fresh_process(), [send(0, a)], "fail")
        h.txn(sim.fresh_process(), [poll({0: [(top, a)]})])
    elif anomaly == "precommitted-read":
        h.txn(sim.fresh_process(), [send(0, a, top), poll({0: [(top, a)]})])
    elif anomaly == "lost-write":
        h.txn(sim.fresh_process(), [send(1, a, top), send(1, b, top + 2)])
        h.txn(sim.fresh_process(), [poll({1: [(top + 2, b)]})])
    elif anomaly == "duplicate":
        h.txn(sim.fresh_process(), [send(2, a, top)])
        h.txn(sim.fresh_process(), [poll({2: [(top, a), (top + 1, a)]})])
    elif anomaly == "int-nonmonotonic-send":
        h.txn(sim.fresh_process(), [send(0, a, top + 1), send(0, b, top)])
    else:
        p, q = sim.fresh_process(), sim.fresh_process()
        first = h.invoke(p, [send(0, a, top), poll({1: [(top, b)]})])
        second = h.invoke(q, [send(1, b, top), poll({0: [(top, a)]})])
        h.complete(p, first)
        h.complete(q, second)


@settings(max_examples=40)
@given(st.data(), st.sampled_from(FORBIDDEN))
def test_one_injected_forbidden_anomaly_is_found(data: st.DataObject, anomaly: str) -> None:
    sim = simulate(data.draw)
    sim.final_reads()
    inject(sim, anomaly)
    result = check_txn(TXN_TEST, sim.history.events)
    assert result["anomalies"][anomaly]["forbidden"] >= 1
    assert result["valid"] is False
