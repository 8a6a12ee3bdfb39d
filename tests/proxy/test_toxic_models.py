"""The toxics' pure models and a link's chain of them: bytes kept or cut as each toxic says, at the times it says."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.proxy.chain import LinkChain
from cluster.proxy.errors import ApiError
from cluster.proxy.toxic import Toxic, parse_toxic, update_toxic
from cluster.proxy.toxics import Cut, Deliver, Event, Finish, slice_sizes

chunks = st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=8)

delaying_toxics = st.one_of(
    st.fixed_dictionaries({"type": st.just("latency"), "attributes": st.fixed_dictionaries(
        {"latency": st.integers(0, 1000), "jitter": st.integers(0, 500)})}),
    st.fixed_dictionaries({"type": st.just("bandwidth"), "attributes": st.fixed_dictionaries(
        {"rate": st.integers(0, 1000)})}),
    st.fixed_dictionaries({"type": st.just("slow_close"), "attributes": st.fixed_dictionaries(
        {"delay": st.integers(0, 1000)})}),
    st.integers(1, 100).flatmap(lambda average: st.fixed_dictionaries({"type": st.just("slicer"), "attributes": st.fixed_dictionaries(
        {"average_size": st.just(average), "size_variation": st.integers(0, average - 1),
         "delay": st.integers(0, 1000)})})),
)


def chain_of(bodies: list[dict[str, object]], seed: int = 0) -> LinkChain:
    chain = LinkChain(random.Random(seed))
    chain.sync([parse_toxic({**body, "name": f"t{index}"}) for index, body in enumerate(bodies)], now=0.0)
    return chain


def run(chain: LinkChain, pieces: list[bytes], gap: float = 0.01) -> list[Event]:
    events: list[Event] = []
    for index, piece in enumerate(pieces):
        events += chain.feed(piece, index * gap)
    return events + chain.finish(len(pieces) * gap)


def delivered(events: list[Event]) -> bytes:
    return b"".join(event.data for event in events if isinstance(event, Deliver))


@given(st.integers(0, 100_000), st.integers(1, 500), st.data(), st.integers())
def test_slices_add_up_and_stay_within_the_variation(total: int, average: int, data: st.DataObject,
                                                     seed: int) -> None:
    variation = data.draw(st.integers(0, average - 1))
    sizes = slice_sizes(total, average, variation, random.Random(seed))
    assert sum(sizes) == total
    assert all(1 <= size <= average + variation for size in sizes)
    assert all(size >= average - variation for size in sizes[:-1])


@given(st.lists(delaying_toxics, max_size=4), chunks, st.integers())
def test_delaying_toxics_keep_every_byte_in_order_and_end_with_the_stream(bodies: list[dict[str, object]],
                                                                        pieces: list[bytes], seed: int) -> None:
    events = run(chain_of(bodies, seed), pieces)
    assert delivered(events) == b"".join(pieces)
    assert isinstance(events[-1], Finish) and not any(isinstance(event, Cut) for event in events)
    assert all(event.at >= 0 for event in events)


@given(st.integers(1, 500), chunks)
def test_bandwidth_takes_at_least_the_bytes_over_the_rate(rate: int, pieces: list[bytes]) -> None:
    events = run(chain_of([{"type": "bandwidth", "attributes": {"rate": rate}}]), pieces, gap=0.0)
    last = max(event.at for event in events if isinstance(event, Deliver))
    assert last >= sum(map(len, pieces)) / (rate * 1000) - 1e-9


@given(st.integers(0, 500), st.integers(0, 500), chunks)
def test_latency_delays_each_chunk_by_latency_within_jitter(latency: int, jitter: int, pieces: list[bytes]) -> None:
    chain = chain_of([{"type": "latency", "attributes": {"latency": latency, "jitter": jitter}}])
    for index, piece in enumerate(pieces):
        [event] = chain.feed(piece, float(index))
        assert isinstance(event, Deliver)
        assert max(0, latency - jitter) / 1000 - 1e-9 <= event.at - index <= (latency + jitter) / 1000 + 1e-9


@given(st.integers(0, 5000), chunks)
def test_limit_data_passes_that_many_bytes_then_cuts(limit: int, pieces: list[bytes]) -> None:
    events = run(chain_of([{"type": "limit_data", "attributes": {"bytes": limit}}]), pieces)
    whole = b"".join(pieces)
    assert delivered(events) == whole[:limit]
    cuts = [event for event in events if isinstance(event, Cut)]
    assert cuts == ([Cut(cuts[0].at, reset=False)] if len(whole) >= limit else [])
    assert not cuts or events[-1] == cuts[0]


@given(st.integers(0, 5000), chunks)
def test_reset_peer_drops_the_data_and_resets_after_its_timeout(timeout: int, pieces: list[bytes]) -> None:
    events = run(chain_of([{"type": "reset_peer", "attributes": {"timeout": timeout}}]), pieces)
    assert events == [Cut(timeout / 1000, reset=True)]


def test_timeout_holds_the_link_and_schedules_a_close_from_when_it_took_hold() -> None:
    chain = LinkChain(random.Random(0))
    chain.sync([parse_toxic({"type": "timeout", "attributes": {"timeout": 250}})], now=10.0)
    assert chain.holds and chain.deadline() == Cut(10.25, reset=False)
    chain.sync([parse_toxic({"type": "timeout"})], now=11.0)
    assert chain.holds and chain.deadline() is None
    chain.sync([], now=12.0)
    assert not chain.holds


def test_a_toxic_left_out_by_its_toxicity_passes_everything() -> None:
    events = run(chain_of([{"type": "reset_peer", "toxicity": 0}]), [b"spared"])
    assert delivered(events) == b"spared"


def test_a_link_keeps_a_toxics_state_until_the_toxic_changes() -> None:
    limit = parse_toxic({"type": "limit_data", "attributes": {"bytes": 14}})
    chain = LinkChain(random.Random(0))
    chain.sync([limit], now=0.0)
    chain.feed(b"12345678", 0.0)
    chain.sync([limit], now=1.0)
    assert delivered(chain.feed(b"abcd", 1.0)) == b"abcd"
    chain.sync([update_toxic(limit, {"attributes": {"bytes": 3}})], now=2.0)
    assert delivered(chain.feed(b"wxyz", 2.0)) == b"wxy"


@given(st.sampled_from(["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "limit_data"]),
       st.sampled_from(["upstream", "downstream"]), st.floats(0, 1), st.integers(0, 2**40))
def test_a_toxic_reads_back_as_it_was_written(kind: str, stream: str, toxicity: float, value: int) -> None:
    toxic = parse_toxic({"type": kind, "stream": stream, "toxicity": toxicity})
    attributes = {name: value for name in toxic.to_json()["attributes"]}
    toxic = parse_toxic({"type": kind, "stream": stream, "toxicity": toxicity, "attributes": attributes})
    assert parse_toxic(toxic.to_json()) == toxic
    assert toxic.to_json()["attributes"] == attributes


def test_a_toxic_defaults_as_toxiproxys_do() -> None:
    toxic = parse_toxic({"type": "latency"})
    assert toxic == Toxic("latency_downstream", "latency", "downstream", 1.0, toxic.model)
    assert toxic.to_json()["attributes"] == {"latency": 0, "jitter": 0}


def test_an_update_keeps_what_it_does_not_name() -> None:
    toxic = parse_toxic({"type": "latency", "stream": "upstream", "toxicity": 0.5,
                         "attributes": {"latency": 100, "jitter": 5}})
    updated = update_toxic(toxic, {"attributes": {"jitter": 7}, "type": "timeout", "stream": "downstream"})
    assert updated.to_json() == {**toxic.to_json(), "attributes": {"latency": 100, "jitter": 7}}
    with pytest.raises(ApiError):
        update_toxic(toxic, {"attributes": {"latency": -1}})
