"""The proxy faults' options: each key becomes the toxic attribute Toxiproxy names, links and stream are checked,
and a run refuses what cannot work beside proxies before any cluster is deployed."""

from __future__ import annotations

import pytest

import nemesis
from harness.spec import SpecError
from nemesis.proxy_options import FAULTS, KEYS, ProxyOptions


def test_each_fault_becomes_its_toxiproxy_toxic_with_the_given_settings():
    given = {"latency-ms": "700", "jitter-ms": "50", "rate-kb-per-s": "8", "delay-ms": "300", "timeout-ms": "0",
             "reset-after-ms": "20", "reset-probability": "0.25"}
    chosen = ProxyOptions.parse(given, FAULTS)
    assert chosen.toxic("latency").kind == "latency"
    assert chosen.toxic("latency").attributes == {"latency": 700, "jitter": 50}
    assert chosen.toxic("bandwidth").attributes == {"rate": 8}
    assert (chosen.toxic("slow-close").kind, chosen.toxic("slow-close").attributes) == ("slow_close", {"delay": 300})
    assert (chosen.toxic("timeout").kind, chosen.toxic("timeout").attributes) == ("timeout", {"timeout": 0})
    assert (chosen.toxic("reset").kind, chosen.toxic("reset").toxicity) == ("reset_peer", 1.0)
    flaky = chosen.toxic("flaky")
    assert (flaky.kind, flaky.attributes, flaky.toxicity) == ("reset_peer", {"timeout": 20}, 0.25)


def test_parameters_name_the_faults_own_settings_its_links_and_stream():
    chosen = ProxyOptions.parse({"latency-ms": "500", "links": "replication", "stream": "downstream"}, ("latency",))
    assert chosen.parameters("latency") == {"latency_ms": 500, "jitter_ms": 0, "links": "replication",
                                            "stream": "downstream", "direction": "to"}
    assert chosen.streams == ("downstream",)
    assert ProxyOptions().streams == ("downstream", "upstream")
    assert ProxyOptions().links == ("client", "replication", "keeper", "quorum")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("links", "replication,disk", "must be a comma-separated list of client, replication, keeper, quorum"),
    ("links", ",", "must be a comma-separated list"),
    ("stream", "sideways", "must be one of downstream, upstream, both"),
    ("direction", "across", "must be one of to, from, both"),
    ("latency-ms", "-1", "must be at least 0"),
    ("latency-ms", "0.5", "must be a whole number"),
    ("reset-probability", "2", "must be between 0 and 1"),
])
def test_bad_values_are_refused_by_name(key, value, message):
    with pytest.raises(SpecError, match=message):
        ProxyOptions.parse({key: value}, FAULTS)


def test_a_key_of_a_proxy_fault_the_run_does_not_inject_is_refused():
    with pytest.raises(SpecError, match="rate-kb-per-s is an option of the bandwidth fault"):
        nemesis.check_run(["latency"], {"rate-kb-per-s": "10"}, {})
    assert KEYS["links"].faults == FAULTS
    nemesis.check_run(["latency", "bandwidth"], {"rate-kb-per-s": "10", "links": "client"}, {})


@pytest.mark.parametrize("other", ["partition", "packet-loss"])
def test_faults_that_cut_traffic_by_node_address_are_refused_beside_proxy_faults(other):
    with pytest.raises(SpecError, match=f"{other} cannot run beside proxy faults"):
        nemesis.check_run(["latency", other], {}, {})


def test_a_run_is_proxied_exactly_when_it_names_a_proxy_fault():
    assert all(nemesis.needs_proxies([fault]) for fault in FAULTS)
    assert not nemesis.needs_proxies(["kill", "partition", "slow-disk"])
