"""Version orders inferred from offsets: the order in which each key's values entered its log.

Every value is unique per key, so each (key, offset, value) that a committed send's acknowledgement
or a poll reports is evidence about the log. Offsets are sparse (transaction markers take offsets
that no record holds), so only their order counts, never their distance. The first value seen at an
offset stands for it in the order; other values seen there are inconsistent offsets, and a value
seen at several offsets is a duplicate (its first offset places it).

Which transactions committed is evidence too: an ok one did, and so did an unknown (info) one
whose sends someone read. Those are the dependency graph's transactions; the order kept per key
holds only their values, so an aborted write seen under read_uncommitted orders nothing.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

from checkers.txn.model import Key, Txn, Value
from harness.history import HistoryError


@dataclass(slots=True)
class KeyOrder:
    """One key's committed values in log order: parallel lists, so that a bisection finds what followed a read."""

    offsets: list[int] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    writers: list[int] = field(default_factory=list)
    """The id of each value's writer."""

    def after(self, offset: int) -> int:
        """The position of the first value above `offset` (len(self) if none is)."""
        return bisect.bisect_right(self.offsets, offset)

    def __len__(self) -> int:
        return len(self.offsets)


@dataclass
class Versions:
    writer: dict[tuple[Key, Value], Txn] = field(default_factory=dict)
    """Who sent each value, whatever became of the transaction."""
    at: dict[Key, dict[int, Value]] = field(default_factory=lambda: defaultdict(dict))
    """Per key, each offset's value (the first seen there)."""
    conflicts: dict[tuple[Key, int], list[Value]] = field(default_factory=dict)
    """Offsets seen holding several values, with all of them."""
    positions: dict[tuple[Key, Value], list[int]] = field(default_factory=lambda: defaultdict(list))
    """Every offset each value was seen at."""
    read: set[tuple[Key, Value]] = field(default_factory=set)
    highest_read: dict[Key, int] = field(default_factory=dict)
    committed: set[int] = field(default_factory=set)
    """The ids of the transactions known to have committed: the dependency graph's nodes."""
    orders: dict[Key, KeyOrder] = field(default_factory=dict)

    def see(self, key: Key, offset: int, value: Value) -> None:
        values = self.at[key]
        first = values.setdefault(offset, value)
        if first != value:
            seen = self.conflicts.setdefault((key, offset), [first])
            if value not in seen:
                seen.append(value)
        offsets = self.positions[(key, value)]
        if offset not in offsets:
            offsets.append(offset)

    def place(self, key: Key, value: Value) -> int | None:
        """The offset that places a value in its key's order: the lowest it was seen at."""
        offsets = self.positions.get((key, value))
        return min(offsets) if offsets else None


def infer_versions(txns: list[Txn]) -> Versions:
    """The version orders of every key, from every committed acknowledgement and every committed poll."""
    versions = Versions()
    for txn in txns:
        for sent in txn.sends:
            earlier = versions.writer.setdefault((sent.key, sent.value), txn)
            if earlier is not txn:
                raise HistoryError(f"op {txn.op.invoke_index}: value {sent.value!r} of key {sent.key} was sent "
                                   f"before (op {earlier.op.invoke_index}); the checker needs unique values")
    for txn in txns:
        if txn.status != "ok":
            continue
        for sent in txn.sends:
            if sent.offset is not None:
                versions.see(sent.key, sent.offset, sent.value)
        for key, offset, value in txn.reads():
            versions.see(key, offset, value)
            versions.read.add((key, value))
            if offset > versions.highest_read.get(key, -1):
                versions.highest_read[key] = offset
    versions.committed = {txn.id for txn in txns if txn.status == "ok" or
                          (txn.status == "info" and any((s.key, s.value) in versions.read for s in txn.sends))}
    versions.orders = {key: _committed_order(versions, key) for key in versions.at}
    return versions


def _committed_order(versions: Versions, key: Key) -> KeyOrder:
    order = KeyOrder()
    for offset, value in sorted(versions.at[key].items()):
        writer = versions.writer.get((key, value))
        if writer is None or writer.id not in versions.committed or versions.place(key, value) != offset:
            continue
        order.offsets.append(offset)
        order.values.append(value)
        order.writers.append(writer.id)
    return order
