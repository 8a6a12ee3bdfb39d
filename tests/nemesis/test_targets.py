"""Target selection: shares of a pool by Jepsen's sizes, drawn by a seeded random, never from held nodes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.deploy.local import LocalNode
from cluster.deploy.node import NodePlan
from nemesis.base import NemesisError
from nemesis.targets import SHARES, choose_share, share_of, share_size


def _pool(size: int) -> list[LocalNode]:
    return [LocalNode(NodePlan(f"b{i}", "broker", i, f"127.0.0.{i + 1}"), Path(f"/nonexistent/b{i}"))
            for i in range(1, size + 1)]


@given(st.integers(1, 15), st.sampled_from(SHARES), st.integers(0, 2**32))
def test_shares_have_jepsens_sizes_and_are_reproducible_by_seed(pool_size, share, seed):
    pool = _pool(pool_size)
    size = share_size(share, pool_size)
    expected = {"one": 1, "all": pool_size, "minority": (pool_size - 1) // 2, "majority": pool_size // 2 + 1}[share]
    assert size == min(expected, pool_size)
    if share == "minority":
        assert 2 * size < pool_size
    if share == "majority":
        assert 2 * size > pool_size
    if size == 0:
        with pytest.raises(NemesisError, match="no node"):
            choose_share(share, pool, pool, random.Random(seed))
        return
    chosen = choose_share(share, pool, pool, random.Random(seed))
    assert len(chosen) == size == len({node.name for node in chosen})
    assert all(node in pool for node in chosen)
    assert chosen == choose_share(share, pool, pool, random.Random(seed))


@given(st.integers(1, 9), st.data())
def test_shares_are_drawn_only_from_free_nodes(pool_size, data):
    pool = _pool(pool_size)
    free = data.draw(st.lists(st.sampled_from(pool), unique=True))
    share = data.draw(st.sampled_from(SHARES))
    size = share_size(share, pool_size)
    if size == 0 or size > len(free):
        with pytest.raises(NemesisError):
            choose_share(share, pool, free, random.Random(0))
    else:
        assert set(choose_share(share, pool, free, random.Random(0))) <= set(free)


def test_an_unknown_share_is_named_in_the_error():
    with pytest.raises(NemesisError, match="unknown target 'half'"):
        share_size("half", 3)


def test_a_seeded_choice_spreads_over_the_pool():
    pool = _pool(5)
    rng = random.Random(7)
    hit = {choose_share("one", pool, pool, rng)[0].name for _ in range(200)}
    assert hit == {node.name for node in pool}


def test_role_groups_are_every_node_of_their_role_whatever_the_pool():
    keepers = [LocalNode(NodePlan(f"k{i}", "keeper", i, f"127.0.1.{i + 1}"), Path(f"/nonexistent/k{i}"))
               for i in range(1, 4)]
    nodes = keepers + _pool(2)
    assert share_of("all-keepers", nodes, ("broker",)) == ("all", keepers)
    assert share_of("all-brokers", nodes, ("keeper",)) == ("all", nodes[3:])
    assert share_of("majority", nodes, ("broker",)) == ("majority", nodes[3:])
    with pytest.raises(NemesisError, match="a all of 3 is 3 node"):
        choose_share(*share_of("all-keepers", nodes, ("broker",)), keepers[1:], random.Random(0))
    with pytest.raises(NemesisError, match="all-keepers: this deployment has no keeper nodes"):
        share_of("all-keepers", _pool(3), ("broker",))
