"""The packet faults' options: their keys, defaults, and how a run's check refuses bad ones."""

from __future__ import annotations

import pytest

import nemesis
from cluster.packets.handling import PacketFault
from harness.spec import SpecError
from nemesis.packet_options import FAULTS, PacketOptions


def test_each_fault_gets_its_own_settings_and_shows_them_as_parameters():
    chosen = PacketOptions.parse({"packet-delay-ms": "250", "packet-jitter-ms": "10", "reorder-probability": "0.5"},
                                 FAULTS)
    assert chosen.handled("packet-delay") == PacketFault("delay", delay_ms=250, jitter_ms=10)
    assert chosen.handled("packet-reorder") == PacketFault("reorder", probability=0.5, delay_ms=20)
    assert chosen.parameters("packet-delay") == {"delay_ms": 250, "jitter_ms": 10, "direction": "received"}
    assert chosen.parameters("packet-loss") == {"loss_probability": 0.2, "direction": "received"}
    assert chosen.parameters("packet-corrupt") == {"probability": 0.05, "direction": "received"}
    assert PacketOptions.parse({"packet-direction": "both"}, ("packet-loss",)).direction == "both"


@pytest.mark.parametrize(("given", "error"), [
    ({"loss-probability": "1.5"}, "loss-probability='1.5': must be between 0 and 1"),
    ({"packet-delay-ms": "-5"}, "packet-delay-ms='-5': must be between 0 and 60000"),
    ({"reorder-delay-ms": "soon"}, "must be a number"),
    ({"packet-direction": "sideways"}, "must be one of received, sent, both"),
])
def test_bad_values_are_refused_before_anything_is_deployed(given, error):
    with pytest.raises(SpecError, match=error):
        nemesis.check_run(list(FAULTS), given, {})


def test_a_key_of_a_fault_the_run_does_not_inject_is_refused():
    with pytest.raises(SpecError, match="duplicate-probability is an option of the packet-duplicate fault"):
        nemesis.check_run(["packet-loss"], {"duplicate-probability": "0.5"}, {})


def test_packet_faults_offer_a_whole_tier_as_target():
    assert nemesis.hits_whole_tiers(["packet-reorder"]) and not nemesis.hits_whole_tiers(["kill", "partition"])
