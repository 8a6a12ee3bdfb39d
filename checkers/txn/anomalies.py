"""The transactional anomalies that are no cycle: what single reads, single transactions and the log show.

Each finder walks the transactions or the version orders once and returns every case, as a dict
naming the transactions involved (their refs); the checker judges them against the claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkers.txn.model import Key, Txn, Value
from checkers.txn.versions import Versions

Case = dict[str, Any]

RULES = {
    "G1a": "a committed transaction read a value that an aborted transaction sent (aborted read)",
    "G1b": "a committed transaction's last read of a key is a value that another transaction sent to that key "
           "before its own last send there (intermediate read)",
    "precommitted-read": "a transaction read a value it sent itself, before it committed",
    "int-send-skip": "a committed transaction's two successive sends to one key have another transaction's value "
                     "between them (Kafka's transactions do not isolate writes)",
    "int-nonmonotonic-send": "a committed transaction's later send to a key landed at a lower offset than its "
                             "earlier one",
    "lost-write": "a committed transaction's acknowledged send, at or below the highest offset any poll read of its "
                  "key, that no poll ever read",
    "duplicate": "one value at several offsets of its key",
    "inconsistent-offsets": "one offset of a key seen holding several values",
}


def find_anomalies(txns: list[Txn], versions: Versions) -> dict[str, list[Case]]:
    """Every case of every anomaly in RULES."""
    found: dict[str, list[Case]] = {name: [] for name in RULES}
    for name, case in _read_cases(txns, versions):
        found[name].append(case)
    committed = [txn for txn in txns if txn.status == "ok"]
    found["int-send-skip"] = list(_send_skips(committed, versions))
    found["int-nonmonotonic-send"] = list(_nonmonotonic_sends(committed, versions))
    found["lost-write"] = list(_lost_writes(committed, versions))
    found["duplicate"] = [{"key": key, "value": value, "offsets": sorted(offsets),
                           **_writer_ref(versions, key, value)}
                          for (key, value), offsets in versions.positions.items() if len(offsets) > 1]
    found["inconsistent-offsets"] = [{"key": key, "offset": offset, "values": values}
                                     for (key, offset), values in sorted(versions.conflicts.items())]
    return found


def _read_cases(txns: list[Txn], versions: Versions) -> Iterator[tuple[str, Case]]:
    """Aborted, precommitted and intermediate reads, in one pass over the committed transactions' reads."""
    intermediate = _intermediate_sends(txns)
    for reader in txns:
        if reader.status != "ok":
            continue
        for key, offset, value in reader.reads():
            writer = versions.writer.get((key, value))
            if writer is reader:
                yield "precommitted-read", _read_case(key, offset, value, writer, reader)
            elif writer is not None and writer.status == "fail":
                yield "G1a", _read_case(key, offset, value, writer, reader)
        for key, (offset, value) in reader.last_reads().items():
            writer = versions.writer.get((key, value))
            if (key, value) in intermediate and writer is not reader and writer is not None \
                    and writer.status != "fail":
                yield "G1b", _read_case(key, offset, value, writer, reader)


def _intermediate_sends(txns: list[Txn]) -> set[tuple[Key, Value]]:
    """Each transaction's sends that are not its last to their key."""
    intermediate: set[tuple[Key, Value]] = set()
    for txn in txns:
        last: dict[Key, Value] = {}
        for sent in txn.sends:
            if sent.key in last:
                intermediate.add((sent.key, last[sent.key]))
            last[sent.key] = sent.value
    return intermediate


def _read_case(key: Key, offset: int, value: Value, writer: Txn, reader: Txn) -> Case:
    return {"key": key, "offset": offset, "value": value, "writer": writer.ref(), "reader": reader.ref()}


def _writer_ref(versions: Versions, key: Key, value: Value) -> Case:
    writer = versions.writer.get((key, value))
    return {"writer": writer.ref()} if writer is not None else {}


def _successive_sends(txns: list[Txn], versions: Versions) -> Iterator[tuple[Txn, Key, Case, int, int]]:
    """Each pair of one committed transaction's successive sends to a key whose places in the log are known:
    (txn, key, the pair as a case, earlier offset, later offset)."""
    for txn in txns:
        previous: dict[Key, tuple[Value, int]] = {}
        for sent in txn.sends:
            offset = sent.offset if sent.offset is not None else versions.place(sent.key, sent.value)
            if offset is None:
                continue
            if sent.key in previous:
                value, earlier = previous[sent.key]
                yield txn, sent.key, {"key": sent.key, "txn": txn.ref(), "earlier": {"value": value, "offset": earlier},
                                      "later": {"value": sent.value, "offset": offset}}, earlier, offset
            previous[sent.key] = (sent.value, offset)


def _send_skips(txns: list[Txn], versions: Versions) -> Iterator[Case]:
    for txn, key, case, earlier, later in _successive_sends(txns, versions):
        order = versions.orders.get(key)
        if order is None or later <= earlier:
            continue
        between = range(order.after(earlier), order.after(later - 1))
        others = [(order.offsets[i], order.values[i]) for i in between if order.writers[i] != txn.id]
        if others:
            yield {**case, "between": [{"offset": o, "value": v} for o, v in others[:4]], "others": len(others)}


def _nonmonotonic_sends(txns: list[Txn], versions: Versions) -> Iterator[Case]:
    return (case for _, _, case, earlier, later in _successive_sends(txns, versions) if later <= earlier)


def _lost_writes(txns: list[Txn], versions: Versions) -> Iterator[Case]:
    read, highest = versions.read, versions.highest_read
    for txn in txns:
        for sent in txn.sends:
            if sent.offset is not None and (sent.key, sent.value) not in read \
                    and sent.offset <= highest.get(sent.key, -1):
                yield {"key": sent.key, "offset": sent.offset, "value": sent.value, "writer": txn.ref(),
                       "highest_read": highest[sent.key]}

