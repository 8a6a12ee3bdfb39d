"""Cycle search and classification, as Elle does it: strongly connected components, then a shortest cycle of each
kind in each.

A history without anomalies has an acyclic graph, so the search costs only the components (networkx's
strongly_connected_components, linear). In each component of two or more transactions it looks for the
shortest cycle through an edge of one kind whose way back uses only some kinds:

| search | through | way back | names the cycle |
|---|---|---|---|
| write cycle | ww | ww | G0 |
| circular information flow | wr | wr | G1c |
| the same with write order | wr | ww, wr | G1c (or G0) |
| one anti-dependency | rw | ww, wr | G-single |
| anti-dependencies | rw | ww, wr, rw | G2 (or G-single) |

Each search runs first on the data edges alone, then, when the test draws process or real-time order,
with those too: a cycle that needs one is named with a suffix (G1c-realtime, G0-process), one that
does not was found already. A cycle's name comes from its edges (no rw: G0 without wr, G1c with;
one rw: G-single; more: G2), and each component reports its shortest cycle of each name. Every edge
of the wanted kind is tried while the component is small; in a large one (a long run under faults
whose write order, which Kafka does not isolate, ties most transactions together) the tries are
bounded so that the search visits about SEARCH_BUDGET edges, and the cycle is the shortest found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from checkers.txn.graph import PROCESS, REALTIME, RW, WR, WW

SEARCHES = ((WW, WW), (WR, WR), (WR, WW | WR), (RW, WW | WR), (RW, WW | WR | RW))
"""(the kind of the edge a cycle goes through, the kinds its way back may use), weakest anomaly first."""
PREFERENCE = (WW, WR, PROCESS, REALTIME, RW)
"""The kind an edge of several kinds is shown as: the one that makes the weakest anomaly."""
SEARCH_BUDGET = 2_000_000
"""About how many edges one search may visit in one component."""
MOST_TRIES = 64
"""Edges tried per search in a component small enough to try them all: its shortest cycle is then exact."""
INFORMATION_FLOW = WR | PROCESS | REALTIME
"""Edges that say one transaction committed before another completed: a cycle of only these is impossible
for transactions that read only committed data."""


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


def find_cycles(graph: nx.DiGraph, orders: int = 0) -> Iterator[Cycle]:
    """The shortest cycle of each name in each strongly connected component; `orders` is the mask of the
    optional orders the graph holds."""
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            yield from _component_cycles(graph.subgraph(component), orders)


def _component_cycles(component: nx.DiGraph, orders: int) -> list[Cycle]:
    cycles: dict[str, Cycle] = {}
    for extra in (0, orders) if orders else (0,):
        for through, back in SEARCHES:
            cycle = _shortest_through(component, through, back | extra)
            if cycle is not None and (not extra or cycle.kinds & extra):
                cycles.setdefault(cycle.name, cycle)
    return list(cycles.values())


def _shortest_through(component: nx.DiGraph, through: int, back: int) -> Cycle | None:
    candidates = [(source, target) for source, target, kinds in component.edges(data="kinds") if kinds & through]
    if not candidates:
        return None
    tries = max(1, min(MOST_TRIES, SEARCH_BUDGET // max(1, component.number_of_edges())))
    way_back = nx.subgraph_view(component, filter_edge=lambda a, b: bool(component[a][b]["kinds"] & back))
    best: list[int] | None = None
    for source, target in candidates[:tries]:
        try:
            path = nx.bidirectional_shortest_path(way_back, target, source)
        except nx.NetworkXNoPath:
            continue
        if best is None or len(path) < len(best):
            best = [source, *path]
            if len(best) == 3:
                break
    if best is None:
        return None
    steps = [Step(best[0], best[1], through)]
    steps += [Step(a, b, _shown_kind(component[a][b]["kinds"] & back)) for a, b in zip(best[1:], best[2:])]
    return Cycle(_name(steps), tuple(steps), tries >= len(candidates))


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

