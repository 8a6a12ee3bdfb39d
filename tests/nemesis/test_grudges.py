"""Partition shapes: each shape's defining property, for any node list and seed (grudges.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis import grudges
from nemesis.grudges import GrudgeError

node_lists = st.lists(st.from_regex(r"[bk][1-9][0-9]?", fullmatch=True), min_size=3, max_size=12, unique=True)
seeds = st.integers(0, 2**32)


def _valid(grudge: grudges.Grudge, nodes: list[str]) -> None:
    """Every grudge names only the given nodes and holds none against the node itself."""
    assert set(grudge) <= set(nodes)
    assert all(dropped <= set(nodes) and node not in dropped and dropped for node, dropped in grudge.items())


def _reaches(grudge: grudges.Grudge, a: str, b: str) -> bool:
    """Packets flow both ways between a and b."""
    return b not in grudge.get(a, ()) and a not in grudge.get(b, ())


@given(node_lists, seeds)
def test_in_a_majorities_ring_every_node_sees_a_majority_and_no_two_see_the_same(nodes, seed):
    grudge = grudges.majorities_ring(nodes, random.Random(seed))
    _valid(grudge, nodes)
    views = [grudges.sees(grudge, node, nodes) for node in nodes]
    assert all(len(view) > len(nodes) // 2 and node in view for node, view in zip(nodes, views))
    assert len(set(views)) == len(nodes)


@given(node_lists, seeds)
def test_a_bridge_joins_two_halves_that_do_not_talk_through_one_node_that_talks_to_both(nodes, seed):
    grudge = grudges.bridge(nodes, random.Random(seed))
    _valid(grudge, nodes)
    middle = [node for node in nodes if all(_reaches(grudge, node, other) for other in nodes)]
    assert len(middle) == 1
    rest = [node for node in nodes if node not in middle]
    side = {rest[0], *(node for node in rest if _reaches(grudge, rest[0], node))}
    other = set(rest) - side
    assert other and abs(len(side) - len(other)) <= 1, "halves as even as the count allows"
    assert all(not _reaches(grudge, a, b) and b in grudge[a] and a in grudge[b] for a in side for b in other)
    assert all(_reaches(grudge, a, b) for group in (side, other) for a in group for b in group)


@given(node_lists, seeds)
def test_minority_third_cuts_off_less_than_a_third_both_ways(nodes, seed):
    if len(nodes) < 4:
        with pytest.raises(GrudgeError, match="no node at all"):
            grudges.minority_third(nodes, random.Random(seed))
        return
    grudge = grudges.minority_third(nodes, random.Random(seed))
    _valid(grudge, nodes)
    isolated = [node for node in nodes if len(grudge[node]) > len(nodes) / 2]
    assert 1 <= len(isolated) < len(nodes) / 3
    assert all(grudge[node] == frozenset(nodes) - set(isolated) for node in isolated)
    assert all(grudge[node] == frozenset(isolated) for node in nodes if node not in isolated)


@given(node_lists, seeds, st.data())
def test_primaries_are_each_alone_and_the_rest_together(nodes, seed, data):
    leaders = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=len(nodes) - 1))
    grudge = grudges.primaries(leaders)(nodes, random.Random(seed))
    _valid(grudge, nodes)
    rest = [node for node in nodes if node not in leaders]
    assert all(grudge[leader] == frozenset(nodes) - {leader} for leader in leaders)
    assert all(grudge[node] == frozenset(leaders) for node in rest)


def test_primaries_without_a_leader_is_refused():
    with pytest.raises(GrudgeError, match="no partition has a leader"):
        grudges.primaries([])(["b1", "b2", "b3"], random.Random(1))


@given(node_lists, seeds)
def test_the_same_seed_draws_the_same_shape(nodes, seed):
    for shape in (grudges.majorities_ring, grudges.bridge):
        assert shape(nodes, random.Random(seed)) == shape(nodes, random.Random(seed))


@pytest.mark.parametrize("shape", [grudges.majorities_ring, grudges.bridge])
def test_two_nodes_make_no_ring_and_no_bridge(shape):
    with pytest.raises(GrudgeError, match="at least 3 nodes"):
        shape(["b1", "b2"], random.Random(1))


def test_an_explicit_grudge_reads_droppers_then_senders():
    clauses = grudges.parse_explicit("b1:b2+b3;k1:k2")
    assert clauses == [grudges.Clause(("b1",), ("b2", "b3")), grudges.Clause(("k1",), ("k2",))]
    assert grudges.explicit([(c.droppers, c.senders) for c in clauses]) == {"b1": {"b2", "b3"}, "k1": {"k2"}}


@pytest.mark.parametrize("text", ["b1", "b1:b2:b3", "b1:", ":b2", "b1:b2++b3", "b1:b2;"])
def test_a_malformed_grudge_says_what_is_wrong(text):
    with pytest.raises(GrudgeError, match="grudge"):
        grudges.parse_explicit(text)


term_lists = st.lists(st.sampled_from(["b1", "b2", "b3", "k1", "k2"]), min_size=1, max_size=4)


@given(st.lists(st.tuples(term_lists, term_lists), min_size=1, max_size=4))
def test_an_explicit_grudge_drops_exactly_the_links_written_except_a_node_to_itself(clauses):
    grudge = grudges.explicit(clauses)
    written = {(sender, dropper) for droppers, senders in clauses for dropper in droppers for sender in senders
               if sender != dropper}
    assert grudges.links(grudge) == written


@given(st.sets(st.tuples(st.sampled_from(["b1", "b2", "k1"]), st.sampled_from(["b1", "b2", "k1"]))
               .filter(lambda link: link[0] != link[1])))
def test_a_grudge_is_its_links(dropped):
    assert grudges.links(grudges.from_links(dropped)) == dropped


@given(node_lists, seeds, st.data())
def test_the_cover_puts_every_link_on_one_of_its_ends_exactly_once(nodes, seed, data):
    shape = data.draw(st.sampled_from([grudges.majorities_ring, grudges.bridge]))
    grudge = shape(nodes, random.Random(seed))
    held = grudges.cover(grudge)
    placed = [link for links in held.values() for link in links]
    assert sorted(placed) == sorted(grudges.links(grudge))
    assert all(name in link for name, links in held.items() for link in links)


def test_a_cut_group_holds_all_the_rules_so_the_rest_stay_free_for_other_faults():
    nodes = ["k1", "k2", "b1", "b2", "b3"]
    held = grudges.cover(grudges.cut_off([["b1", "b2"]], nodes))
    assert sorted(held) == ["b1", "b2"]
    one_way = grudges.explicit([(["b1"], ["k1", "k2"])])
    assert grudges.cover(one_way) == {"b1": {("k1", "b1"), ("k2", "b1")}}
    assert sorted(grudges.cover(one_way, preferred=["k1", "k2"])) == ["k1", "k2"]
