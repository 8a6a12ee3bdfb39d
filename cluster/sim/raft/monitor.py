"""Raft's safety properties (paper §5.2-5.4, Figure 3), checked on what nodes report.

Nodes report from their Ready loop: roles they take and entries they apply. Violations are
collected, not raised, so one schedule reports everything it found.
"""

from __future__ import annotations

from collections.abc import Mapping

from cluster.keeper.raft import Entry, RaftLog, Role, SoftState


class RaftSafetyMonitor:
    def __init__(self) -> None:
        self.leaders: dict[int, int] = {}
        self.applied: dict[int, Entry] = {}
        self.violations: list[str] = []
        self._last_applied: dict[int, int] = {}

    def on_state_loaded(self, node: int, index: int) -> None:
        """The node's state machine now reflects entries up to `index` (a boot or a snapshot)."""
        self._last_applied[node] = index

    def on_role(self, node: int, soft: SoftState, log: RaftLog, now: int) -> None:
        if soft.role is not Role.LEADER:
            return
        elected = self.leaders.setdefault(soft.term, node)
        if elected != node:
            self.violations.append(f"election safety: {elected} and {node} both lead term {soft.term} (t={now})")
        for index, entry in self.applied.items():
            if not _contains(log, entry):
                self.violations.append(
                    f"leader completeness: leader {node} of term {soft.term} lacks committed {entry} (t={now})"
                )
                return

    def on_apply(self, node: int, entry: Entry, now: int) -> None:
        expected = self._last_applied.get(node, 0) + 1
        if entry.index != expected:
            self.violations.append(f"state machine safety: {node} applied index {entry.index}, not {expected} (t={now})")
        self._last_applied[node] = entry.index
        first = self.applied.setdefault(entry.index, entry)
        if first != entry:
            self.violations.append(f"state machine safety: {node} applied {entry}, another node {first} (t={now})")

    def check_log_matching(self, logs: Mapping[int, RaftLog]) -> None:
        """Two logs with an entry of the same index and term agree on every entry up to it."""
        nodes = sorted(logs)
        for i, a in enumerate(nodes):
            for b in nodes[i + 1 :]:
                problem = _log_mismatch(logs[a], logs[b])
                violation = f"log matching between {a} and {b}: {problem}"
                if problem and violation not in self.violations:
                    self.violations.append(violation)


def _contains(log: RaftLog, entry: Entry) -> bool:
    if entry.index < log.snapshot.index:
        return True  # compacted into the snapshot: covered by the snapshot's own index and term
    if entry.index == log.snapshot.index:
        return log.snapshot.term == entry.term
    return log.entry(entry.index) == entry


def _log_mismatch(a: RaftLog, b: RaftLog) -> str | None:
    low = max(a.first_index, b.first_index)
    common = min(a.last_index, b.last_index)
    while common >= low and a.term(common) != b.term(common):
        common -= 1
    for index in range(low, common + 1):
        if a.entry(index) != b.entry(index):
            return f"both have term {a.term(common)} at {common} but differ at {index}: {a.entry(index)} vs {b.entry(index)}"
    return None
