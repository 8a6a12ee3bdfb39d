"""The dependency graph Elle builds for Kafka, between the transactions known to have committed.

- ww: T1 -> T2 when T2's value directly follows T1's in a key's version order (offset order).
- wr: T1 -> T2 when T2's last read of a key is T1's value. Only the last read: the records before it
  were sent by transactions that precede that writer in ww order already, and a poll reads a range.
- rw: T1 -> T2 when T2's value directly follows T1's last read of a key: T1 did not see it.
- process (optional): a process's successive transactions.
- realtime (optional): T1 -> T2 when T1 completed before T2 was invoked; as Elle does, only from
  the transactions completed and not yet followed by another completion that saw them (the frontier),
  so the graph stays near linear in size and loses no order.

One networkx DiGraph holds every edge once, without attributes (a dict per edge would double the
graph's cost), and a dict beside it each edge's kinds as a bit mask; the first evidence of each
data edge is kept to explain a cycle.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import networkx as nx

from checkers.txn.model import Txn
from checkers.txn.versions import Versions

WW, WR, RW, PROCESS, REALTIME = 1, 2, 4, 8, 16
KINDS = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime"}
ORDERS = {"process": PROCESS, "realtime": REALTIME}
"""The optional orders, by the names a test gives them."""
DATA = WW | WR | RW
Evidence = tuple[Any, Any, Any]
"""(key, the value of the edge's source side, the value of its target side)."""


@dataclass
class Dependencies:
    graph: nx.DiGraph
    """Nodes are transaction ids."""
    kinds: dict[tuple[int, int], int]
    """Each edge's kinds, as a bit mask."""
    txns: list[Txn]
    evidence: dict[tuple[int, int, int], Evidence]
    """(source, target, kind) -> the first evidence of a data edge."""
    counts: dict[str, int]
    """Edges of each kind (an edge of several kinds counts for each)."""


class _Edges:
    def __init__(self) -> None:
        self.kinds: dict[tuple[int, int], int] = {}
        self.evidence: dict[tuple[int, int, int], Evidence] = {}

    def add(self, source: int, target: int, kind: int, evidence: Evidence | None = None) -> None:
        if source == target:
            return
        edge = (source, target)
        self.kinds[edge] = self.kinds.get(edge, 0) | kind
        if evidence is not None:
            self.evidence.setdefault((source, target, kind), evidence)


def build_graph(txns: list[Txn], versions: Versions, orders: Collection[str] = (), ww: bool = True) -> Dependencies:
    """The graph over versions.committed; `orders` names the optional orders drawn, `ww` whether write order is
    (Jepsen's --no-ww-deps leaves it out)."""
    unknown = set(orders) - set(ORDERS)
    if unknown:
        raise ValueError(f"orders must be among {', '.join(ORDERS)}, not {', '.join(sorted(unknown))}")
    edges = _Edges()
    if ww:
        _write_order(versions, edges)
    _reads(txns, versions, edges)
    committed = [txn for txn in txns if txn.id in versions.committed]
    if "process" in orders:
        _process_order(committed, edges)
    if "realtime" in orders:
        _realtime_order(committed, edges)
    graph = nx.DiGraph()
    graph.add_nodes_from(txn.id for txn in committed)
    graph.add_edges_from(edges.kinds)
    counts = {name: sum(1 for kinds in edges.kinds.values() if kinds & kind) for kind, name in KINDS.items()}
    return Dependencies(graph, edges.kinds, txns, edges.evidence, counts)


def _write_order(versions: Versions, edges: _Edges) -> None:
    for key, order in versions.orders.items():
        for i in range(len(order) - 1):
            edges.add(order.writers[i], order.writers[i + 1], WW, (key, order.values[i], order.values[i + 1]))


def _reads(txns: list[Txn], versions: Versions, edges: _Edges) -> None:
    for reader in txns:
        if reader.status != "ok":
            continue
        for key, (offset, value) in reader.last_reads().items():
            writer = versions.writer.get((key, value))
            if writer is not None and writer.id in versions.committed:
                edges.add(writer.id, reader.id, WR, (key, value, value))
            order = versions.orders.get(key)
            next_ = order.after(offset) if order is not None else 0
            if order is not None and next_ < len(order):
                edges.add(reader.id, order.writers[next_], RW, (key, value, order.values[next_]))


def _process_order(committed: list[Txn], edges: _Edges) -> None:
    last: dict[Any, int] = {}
    for txn in committed:
        if txn.op.process in last:
            edges.add(last[txn.op.process], txn.id, PROCESS)
        last[txn.op.process] = txn.id


def _realtime_order(committed: list[Txn], edges: _Edges) -> None:
    """Walks invocations and completions in history order: each invocation follows every transaction on the
    frontier; a completion takes the place, on the frontier, of those its own invocation followed. Only an ok
    completion ends a transaction: one of unknown outcome may still commit after its client gave up."""
    events = [(txn.op.invoke_index, False, txn.id) for txn in committed]
    events += [(txn.op.index, True, txn.id) for txn in committed if txn.op.type == "ok"]
    frontier: set[int] = set()
    followed: dict[int, list[int]] = {}
    for _, completion, txn in sorted(events):
        if completion:
            frontier.difference_update(followed.pop(txn, ()))
            frontier.add(txn)
        else:
            followed[txn] = list(frontier)
            for earlier in frontier:
                edges.add(earlier, txn, REALTIME)
