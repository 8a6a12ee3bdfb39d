"""Partition shapes as Jepsen's grudges: who drops whose packets, decided before any rule exists.

A grudge maps a node to the nodes whose packets it drops (it still sends to them). A link cut both
ways is two grudges; a one-way cut is one. Shapes are pure functions of the node names and a
seeded Random, so a seed repeats a run's partitions and each shape's defining property can be
tested without a cluster:

- majorities-ring: every node sees a majority (itself included), and no two nodes see the same one;
- bridge: two halves that do not talk, joined through one node that talks to both;
- minority-third: fewer than a third of the nodes cut off from the rest (at least one);
- primaries: each given leader alone, the other nodes together;
- explicit: written out, `DROPPERS:SENDERS[;DROPPERS:SENDERS...]`, each side `+`-joined names
  (`b1:b2+b3;k1:k2`: b1 drops what b2 and b3 send, k1 what k2 sends). Every term names nodes the
  nemesis resolves (a node, all-brokers, a role holder), so "partition-leader:all-keepers" is a
  leader that can send to the keepers but not hear from them.

`cover` then says where the rules go: a link is dropped either where it arrives or where it leaves,
and the fewest nodes holding rules are the fewest a partition keeps from other faults.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

Grudge = dict[str, frozenset[str]]
"""node -> the nodes whose packets it drops."""
Link = tuple[str, str]
"""(sender, receiver): packets from sender to receiver are dropped."""
Shape = Callable[[Sequence[str], random.Random], Grudge]

SHAPE_NAMES = ("majorities-ring", "bridge", "minority-third", "primaries")
"""Shape targets of the partition fault; shares, role holders and explicit grudges are the others."""
GRUDGE_SEPARATOR = ":"
"""What makes a target an explicit grudge: no share, role or node name contains it."""


class GrudgeError(ValueError):
    """A shape cannot be drawn over these nodes, or an explicit grudge is malformed."""


def complete(components: Sequence[Collection[str]]) -> Grudge:
    """Every node drops packets from every node outside its own component (Jepsen's complete-grudge)."""
    everyone = frozenset(node for component in components for node in component)
    return {node: everyone - frozenset(component) for component in components for node in component
            if everyone - frozenset(component)}


def cut_off(groups: Sequence[Collection[str]], nodes: Collection[str]) -> Grudge:
    """Each group alone, and the rest of `nodes` together: the shares' cut and primaries'."""
    taken = {node for group in groups for node in group}
    rest = [node for node in nodes if node not in taken]
    return complete([*groups, *([rest] if rest else [])])


def majorities_ring(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Nodes in a shuffled ring; each sees the majority-sized window centred on it and drops the rest."""
    if len(nodes) < 3:
        raise GrudgeError(f"majorities-ring needs at least 3 nodes (no two may see the same majority), not {len(nodes)}")
    ring = rng.sample(list(nodes), len(nodes))
    size = len(ring) // 2 + 1
    everyone = frozenset(ring)
    grudge: Grudge = {}
    for start in range(len(ring)):
        window = [ring[(start + i) % len(ring)] for i in range(size)]
        grudge[window[size // 2]] = everyone - frozenset(window)
    return grudge


def bridge(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Shuffled halves cut from each other, except the first node of the second half, which both reach."""
    if len(nodes) < 3:
        raise GrudgeError(f"bridge needs at least 3 nodes (two halves and the node joining them), not {len(nodes)}")
    shuffled = rng.sample(list(nodes), len(nodes))
    half = len(shuffled) // 2
    middle = shuffled[half]
    grudge = complete([shuffled[:half], shuffled[half:]])
    return {node: dropped - {middle} for node, dropped in grudge.items() if node != middle}


def minority_third(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """The largest group smaller than a third of the nodes (Jepsen's minority-third), cut off from the rest."""
    size = (len(nodes) - 1) // 3
    if size == 0:
        raise GrudgeError(f"less than a third of {len(nodes)} node(s) is no node at all (minority-third needs 4 or more)")
    return cut_off([rng.sample(list(nodes), size)], nodes)


def primaries(leaders: Collection[str]) -> Shape:
    """The shape that cuts off each of `leaders` alone (the leaders of every partition, found at start)."""
    def shape(nodes: Sequence[str], _rng: random.Random) -> Grudge:
        if not leaders:
            raise GrudgeError("primaries: no partition has a leader now")
        return cut_off([[leader] for leader in sorted(set(leaders))], nodes)
    return shape


SHAPES: Mapping[str, Shape] = {"majorities-ring": majorities_ring, "bridge": bridge, "minority-third": minority_third}
"""The shapes drawn from the node names alone (primaries also needs the leaders)."""


@dataclass(frozen=True)
class Clause:
    """One `DROPPERS:SENDERS` of an explicit grudge: terms as written, resolved to nodes by the nemesis."""

    droppers: tuple[str, ...]
    senders: tuple[str, ...]


def is_explicit(target: str) -> bool:
    return GRUDGE_SEPARATOR in target


def parse_explicit(text: str) -> list[Clause]:
    """`b1:b2+b3;k1:k2` as clauses; GrudgeError says what is wrong with a malformed one."""
    clauses = []
    for part in text.split(";"):
        droppers, separator, senders = part.partition(GRUDGE_SEPARATOR)
        if not separator or GRUDGE_SEPARATOR in senders:
            raise GrudgeError(f"grudge {text!r}: {part!r} is not DROPPERS:SENDERS")
        clauses.append(Clause(_terms(droppers, text), _terms(senders, text)))
    return clauses


def _terms(side: str, text: str) -> tuple[str, ...]:
    terms = tuple(term.strip() for term in side.split("+"))
    if not all(terms):
        raise GrudgeError(f"grudge {text!r}: {side!r} has an empty name (join names with '+', e.g. b1:b2+b3)")
    return terms


def explicit(clauses: Iterable[tuple[Collection[str], Collection[str]]]) -> Grudge:
    """Each dropper drops what each sender sends, clauses merged; nobody holds a grudge against itself."""
    grudge: dict[str, set[str]] = {}
    for droppers, senders in clauses:
        for dropper in droppers:
            grudge.setdefault(dropper, set()).update(sender for sender in senders if sender != dropper)
    return {node: frozenset(dropped) for node, dropped in grudge.items() if dropped}


def links(grudge: Mapping[str, Collection[str]]) -> set[Link]:
    return {(sender, receiver) for receiver, senders in grudge.items() for sender in senders}


def from_links(dropped: Iterable[Link]) -> Grudge:
    """The grudge that drops exactly these (sender, receiver) links: links() undone, and how grudges add up."""
    return explicit(([receiver], [sender]) for sender, receiver in dropped)


def sees(grudge: Mapping[str, Collection[str]], node: str, nodes: Collection[str]) -> frozenset[str]:
    """The nodes whose packets `node` receives (itself included)."""
    return frozenset(nodes) - frozenset(grudge.get(node, ()))


def cover(grudge: Mapping[str, Collection[str]], preferred: Collection[str] = ()) -> dict[str, set[Link]]:
    """Which node holds the rule for each dropped link: greedily the node on most uncovered links, nodes in
    `preferred` first (those free of other faults), ties by name; every link is held by one of its ends."""
    left = links(grudge)
    held: dict[str, set[Link]] = {}
    while left:
        ends = {node for link in left for node in link}
        node = min(ends, key=lambda n: (n not in preferred, -sum(n in link for link in left), n))
        held[node] = {link for link in left if node in link}
        left -= held[node]
    return held
