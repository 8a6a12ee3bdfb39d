"""What the packet handler decides for each packet, as pure logic: holds, copies and bit flips."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.packets.handler import parse
from cluster.packets.handling import HeldPackets, PacketFault, flip_bit, ip_header_length, segment_bits

seeds = st.integers(0, 2**32)
probabilities = st.floats(0, 1)
millis = st.floats(0, 5000)


def ipv4(header_words: int, segment: bytes) -> bytes:
    """A packet with an IPv4 header of `header_words` 32-bit words (its first byte says so) and a segment."""
    header = bytes([0x40 | header_words]) + bytes(header_words * 4 - 1)
    return header + segment


@given(seeds, millis, millis)
def test_a_delay_holds_each_packet_within_its_jitter_and_never_less_than_nothing(seed, delay, jitter):
    fault = PacketFault("delay", delay_ms=delay, jitter_ms=jitter)
    handling = fault.handling(random.Random(seed), 800)
    assert max(0.0, delay - jitter) / 1000 - 1e-9 <= handling.hold <= (delay + jitter) / 1000 + 1e-9
    assert handling.copies == 0 and handling.flip_bit is None


@given(seeds, st.sampled_from(["duplicate", "reorder", "corrupt"]))
def test_probability_zero_touches_nothing_and_one_touches_every_packet(seed, kind):
    rng = random.Random(seed)
    untouched = PacketFault(kind, probability=0.0, delay_ms=10).handling(rng, 800)
    assert untouched.hold == 0 and untouched.copies == 0 and untouched.flip_bit is None
    touched = PacketFault(kind, probability=1.0, delay_ms=10).handling(rng, 800)
    assert (touched.copies, touched.hold > 0, touched.flip_bit is not None) == {
        "duplicate": (1, False, False), "reorder": (0, True, False), "corrupt": (0, False, True)}[kind]


@given(seeds, probabilities, millis)
def test_reorder_holds_a_packet_for_the_whole_delay_or_not_at_all(seed, probability, delay):
    fault = PacketFault("reorder", probability=probability, delay_ms=delay)
    rng = random.Random(seed)
    assert all(fault.handling(rng, 800).hold in (0.0, delay / 1000) for _ in range(20))


def test_the_share_of_touched_packets_follows_the_probability():
    rng = random.Random(1)
    fault = PacketFault("duplicate", probability=0.3)
    copies = sum(fault.handling(rng, 800).copies for _ in range(10_000))
    assert 2_700 < copies < 3_300


@given(st.integers(5, 15), st.binary(min_size=1, max_size=200), st.data())
def test_a_flip_changes_exactly_one_bit_past_the_ip_header(words, segment, data):
    packet = ipv4(words, segment)
    bit = data.draw(st.integers(0, segment_bits(packet) - 1))
    flipped = flip_bit(packet, bit)
    assert len(flipped) == len(packet)
    assert flipped[:ip_header_length(packet)] == packet[:ip_header_length(packet)]
    difference = int.from_bytes(flipped, "big") ^ int.from_bytes(packet, "big")
    assert bin(difference).count("1") == 1
    assert flip_bit(flipped, bit) == packet


@given(seeds)
def test_a_packet_with_nothing_past_its_header_is_never_corrupted(seed):
    packet = ipv4(5, b"")
    assert segment_bits(packet) == 0
    assert PacketFault("corrupt", probability=1.0).handling(random.Random(seed), 0).flip_bit is None
    with pytest.raises(ValueError):
        flip_bit(packet, 0)


@given(st.lists(st.floats(0, 10), max_size=50), st.floats(0, 10))
def test_held_packets_leave_in_the_order_their_holds_end_and_ties_in_arrival_order(untils, now):
    held: HeldPackets[int] = HeldPackets()
    for arrival, until in enumerate(untils):
        held.hold(arrival, until)
    released = held.due(now)
    expected = sorted((arrival for arrival, until in enumerate(untils) if until <= now),
                      key=lambda arrival: (untils[arrival], arrival))
    assert released == expected
    assert len(held) == len(untils) - len(released)
    assert all(untils[arrival] > now for arrival in held.release_all())


@given(st.lists(st.floats(0, 10), min_size=1, max_size=50), st.floats(0, 1))
def test_a_constant_delay_never_reorders(arrivals, delay):
    held: HeldPackets[int] = HeldPackets()
    for index, arrival in enumerate(sorted(arrivals)):
        held.hold(index, arrival + delay)
    assert held.release_all() == list(range(len(arrivals)))


@pytest.mark.parametrize("settings", [{"kind": "netem"}, {"kind": "delay", "delay_ms": -1},
                                      {"kind": "corrupt", "probability": 1.5}])
def test_bad_settings_are_refused_by_name(settings):
    with pytest.raises(ValueError):
        PacketFault(**settings)


def test_the_handlers_arguments_carry_every_setting():
    fault = PacketFault("reorder", probability=0.25, delay_ms=30, jitter_ms=0)
    parsed = parse(["--queue", "5", *fault.arguments()])
    assert PacketFault(parsed.fault, parsed.probability, parsed.delay_ms, parsed.jitter_ms) == fault
