"""Cycle search and classification, as Elle does it: strongly connected components, then a shortest cycle of each
kind in each.

A history without anomalies has an acyclic graph, so the search costs only the components (networkx's
strongly_connected_components, linear). In each component of two or more transactions it looks for the
shortest cycle through an edge of one kind whose way back uses only some kinds:

| search | through | way back | names the cycle |
|---|---|---|---|
| write cycle | ww | ww | G0 |
| circular information flow | wr | ww, wr | G1c (or G0) |
| one anti-dependency | rw | ww, wr | G-single |
| anti-dependencies | rw | ww, wr, rw | G2 (or G-single) |

Each search runs first on the data edges alone, then, when the test draws process or real-time order,
with those too: a cycle that needs one is named with a suffix (G1c-realtime, G0-process), one that
does not was found already. A cycle's name comes from its edges (no rw: G0 without wr, G1c with;
one rw: G-single; more: G2), and each component reports its shortest cycle of each name. Every edge
of the wanted kind is tried while that visits at most SEARCH_BUDGET edges; in a large component (a long run under faults
whose write order, which Kafka does not isolate, ties most transactions together) the tries are
bounded so that the search visits about SEARCH_BUDGET edges, and the cycle is the shortest found.

Circular information flow through wr edges alone (and process or real-time order) is what
read_committed forbids, so it is never left to bounded tries: the components of the graph of those
edges alone are searched apart, and each of them holds such a cycle through any of its wr edges.
The component searches above leave those cycles out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from checkers.txn.graph import PROCESS, REALTIME, RW, WR, WW

SEARCHES = ((WW, WW), (WR, WW | WR), (RW, WW | WR), (RW, WW | WR | RW))
"""(the kind of the edge a cycle goes through, the kinds its way back may use), weakest anomaly first."""
PREFERENCE = (WW, WR, PROCESS, REALTIME, RW)
"""The kind an edge of several kinds is shown as: the one that makes the weakest anomaly."""
SEARCH_BUDGET = 1_000_000
"""About how many edges one search may visit in one component."""
EVERY_KIND = WW | WR | RW | PROCESS | REALTIME
INFORMATION_FLOW = WR | PROCESS | REALTIME
"""Edges that say one transaction committed before another completed: a cycle of only these is impossible
for transactions that read only committed data."""


Kinds = dict[tuple[int, int], int]
"""Each edge's kinds, as a bit mask (checkers.txn.graph)."""


@dataclass(frozen=True)
class Step:
    source: int
    target: int
    kind: int


@dataclass(frozen=True)
class Cycle:
    name: str
    steps: tuple[Step, ...]
    exhaustive: bool
    """Every candidate edge of its component was tried, so no shorter cycle of its search exists there."""

    @property
    def kinds(self) -> int:
        mask = 0
        for step in self.steps:
            mask |= step.kind
        return mask

    @property
    def information_flow_only(self) -> bool:
        """Made of wr (and process or real-time order) edges only: read_committed forbids it."""
        return not self.kinds & ~INFORMATION_FLOW


def find_cycles(graph: nx.DiGraph, kinds: Kinds, orders: int = 0) -> Iterator[Cycle]:
    """Every cycle of circular information flow, then the shortest cycle of each name in each strongly
    connected component; `orders` is the mask of the optional orders the graph holds."""
    yield from _information_flow(kinds, orders)
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            yield from _Component(dict(graph.adjacency()), kinds, component, EVERY_KIND).cycles(orders)


def _information_flow(kinds: Kinds, orders: int) -> Iterator[Cycle]:
    """A shortest cycle through wr edges in each component of the graph of wr edges (then of wr edges and the
    orders: those that need an order); every edge of such a component lies on a cycle."""
    for extra in (0, orders) if orders else (0,):
        mask = WR | extra
        flow = nx.DiGraph()
        flow.add_edges_from(edge for edge, edge_kinds in kinds.items() if edge_kinds & mask)
        for component in nx.strongly_connected_components(flow):
            if len(component) > 1:
                cycle = _Component(dict(flow.adjacency()), kinds, component, mask).shortest_through(WR, mask)
                if cycle is not None and (not extra or cycle.kinds & extra):
                    yield cycle


class _Component:
    """One strongly connected component of the graph, searched in place: a breadth-first search that keeps to
    its nodes and to the edges of a mask (a filtered networkx view, or a graph per mask, costs several times
    more on a large component)."""

    def __init__(self, targets: dict[int, dict[int, Any]], kinds: Kinds, nodes: set[int], mask: int) -> None:
        """The component's edges, from each node's `targets` (networkx's adjacency), kept to the kinds of
        `mask`."""
        self.adjacent = {a: [(b, kinds[(a, b)] & mask) for b in targets[a]
                             if b in nodes and kinds[(a, b)] & mask] for a in nodes}
        """Each node's edges within the component, as (target, kinds): plain lists walk several times faster
        than networkx's views."""
        self.edges = sum(map(len, self.adjacent.values()))

    def cycles(self, orders: int) -> list[Cycle]:
        cycles: dict[str, Cycle] = {}
        for extra in (0, orders) if orders else (0,):
            for through, back in SEARCHES:
                cycle = self.shortest_through(through, back | extra)
                if cycle is not None and (not extra or cycle.kinds & extra) and not cycle.information_flow_only:
                    cycles.setdefault(cycle.name, cycle)
        return list(cycles.values())

    def kinds(self, a: int, b: int) -> int:
        return next(kinds for target, kinds in self.adjacent[a] if target == b)

    def candidates(self, through: int) -> Iterator[tuple[int, int]]:
        return ((a, b) for a, edges in self.adjacent.items() for b, kinds in edges if kinds & through)

    def shortest_through(self, through: int, back: int) -> Cycle | None:
        tries = max(1, SEARCH_BUDGET // self.edges)
        candidates = self.candidates(through)
        best: list[int] | None = None
        tried = 0
        for source, target in itertools.islice(candidates, tries):
            tried += 1
            path = self.path(target, source, back, len(best) - 1 if best else None)
            if path is not None and (best is None or len(path) + 1 < len(best)):
                best = [source, *path]
                if len(best) == 3:
                    break
        if best is None:
            return None
        steps = [Step(best[0], best[1], through)]
        steps += [Step(a, b, _shown_kind(self.kinds(a, b) & back)) for a, b in zip(best[1:], best[2:])]
        return Cycle(_name(steps), tuple(steps), len(best) == 3 or tried < tries or next(candidates, None) is None)

    def path(self, start: int, goal: int, mask: int, shorter_than: int | None) -> list[int] | None:
        """A shortest path from start to goal over edges of the mask (None: none, or none shorter than
        `shorter_than` nodes)."""
        parents: dict[int, int | None] = {start: None}
        frontier = [start]
        length = 1
        while frontier and (shorter_than is None or length < shorter_than):
            length += 1
            reached = []
            for a in frontier:
                for b, kinds in self.adjacent[a]:
                    if not kinds & mask or b in parents:
                        continue
                    parents[b] = a
                    if b == goal:
                        return _walk_back(parents, goal)
                    reached.append(b)
            frontier = reached
        return None


def _walk_back(parents: dict[int, int | None], node: int) -> list[int]:
    path = [node]
    while (parent := parents[path[-1]]) is not None:
        path.append(parent)
    return path[::-1]


def _shown_kind(kinds: int) -> int:
    return next(kind for kind in PREFERENCE if kinds & kind)


SUFFIXES = ("-realtime", "-process")


def base_name(name: str) -> str:
    """The anomaly a cycle's name names, without the order it needed: G1c-realtime is a G1c."""
    return next((name[:-len(suffix)] for suffix in SUFFIXES if name.endswith(suffix)), name)


def _name(steps: list[Step]) -> str:
    kinds = {step.kind for step in steps}
    anti = sum(step.kind == RW for step in steps)
    base = "G2" if anti > 1 else "G-single" if anti else "G1c" if WR in kinds else "G0"
    return base + (SUFFIXES[0] if REALTIME in kinds else SUFFIXES[1] if PROCESS in kinds else "")

