"""Kafka's listener properties read as Kafka reads them: defaults, names, and the refusals Kafka makes."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.config import BrokerConfig
from cluster.broker.endpoints import Endpoint
from cluster.broker.listeners import Listeners

names = st.from_regex(r"[A-Z][A-Z0-9_]{0,9}", fullmatch=True)
hosts = st.sampled_from(["127.0.0.1", "broker-1.example", "::1", ""])


@st.composite
def listener_sets(draw: st.DrawFn) -> tuple[list[Endpoint], list[Endpoint], str]:
    """Bound endpoints with distinct names and ports, advertised ones for some of them, and an inter-broker name."""
    chosen = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    ports = draw(st.lists(st.integers(1, 65535), min_size=len(chosen), max_size=len(chosen), unique=True))
    bound = [Endpoint(name, draw(hosts), port) for name, port in zip(chosen, ports)]
    advertised_names = draw(st.lists(st.sampled_from(chosen), min_size=1, unique=True))
    advertised = [Endpoint(name, draw(hosts.filter(bool)), draw(st.integers(1, 65535))) for name in advertised_names]
    return bound, advertised, draw(st.sampled_from(advertised_names))


def properties_of(bound: list[Endpoint], advertised: list[Endpoint], inter_broker: str) -> dict[str, str]:
    return {
        "listeners": ",".join(map(str, bound)),
        "advertised.listeners": " , ".join(map(str, advertised)),
        "listener.security.protocol.map": ",".join(f"{endpoint.listener.lower()}:PLAINTEXT" for endpoint in bound),
        "inter.broker.listener.name": inter_broker.lower(),
    }


@given(listener_sets())
def test_listener_properties_read_back_what_was_written(case: tuple[list[Endpoint], list[Endpoint], str]) -> None:
    bound, advertised, inter_broker = case
    listeners = BrokerConfig.from_properties(properties_of(bound, advertised, inter_broker)).listeners
    assert listeners.bound == tuple(bound)
    assert listeners.advertised == tuple(advertised)
    assert listeners.inter_broker == inter_broker


def test_without_listener_properties_one_plaintext_listener_on_the_loopback() -> None:
    listeners = BrokerConfig.from_properties({}).listeners
    assert listeners.bound == listeners.advertised == (Endpoint("PLAINTEXT", "127.0.0.1", 9092),)
    assert listeners.inter_broker == "PLAINTEXT"


def test_advertised_listeners_default_to_the_listeners_and_an_empty_host_registers_the_machines_name() -> None:
    listeners = Listeners.from_properties({"listeners": "plaintext://:9092"})
    assert listeners.advertised == listeners.bound == (Endpoint("PLAINTEXT", "", 9092),)
    assert listeners.registered() == (Endpoint("PLAINTEXT", socket.getfqdn(), 9092),)


def test_advertised_endpoints_may_differ_from_the_bound_ones_and_name_only_some_listeners() -> None:
    listeners = Listeners.from_properties({
        "listeners": "CLIENT://127.0.0.1:9092,REPLICATION://127.0.0.1:9093,EXTRA://127.0.0.1:9094",
        "advertised.listeners": "CLIENT://proxy:19092,REPLICATION://proxy:19093",
        "listener.security.protocol.map": "CLIENT:PLAINTEXT,REPLICATION:PLAINTEXT,EXTRA:PLAINTEXT,UNUSED:SSL",
        "inter.broker.listener.name": "REPLICATION",
    })
    assert [str(endpoint) for endpoint in listeners.registered()] == ["CLIENT://proxy:19092",
                                                                      "REPLICATION://proxy:19093"]


def test_security_inter_broker_protocol_names_the_listener_after_the_protocol() -> None:
    listeners = Listeners.from_properties({"listeners": "PLAINTEXT://h:1", "security.inter.broker.protocol": "PLAINTEXT"})
    assert listeners.inter_broker == "PLAINTEXT"


@pytest.mark.parametrize(("properties", "message"), [
    ({"listeners": "CLIENT://h:1"}, "No security protocol defined for listener CLIENT"),
    ({"listeners": "SSL://h:1"}, "listener SSL uses security protocol SSL; this broker speaks only PLAINTEXT"),
    ({"listeners": "PLAINTEXT://h:1,plaintext://h:2"}, "each listener must have a different name; PLAINTEXT"),
    ({"listeners": "PLAINTEXT://h:1,B://h:1", "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,B:PLAINTEXT"},
     "each listener must have a different port; 1"),
    ({"listeners": "PLAINTEXT://h"}, "is not NAME://host:port"),
    ({"listeners": "PLAINTEXT://h:70000"}, "port 70000 is above 65535"),
    ({"listeners": " , "}, "no listener given"),
    ({"listener.security.protocol.map": "PLAINTEXT"}, "'PLAINTEXT' is not NAME:PROTOCOL"),
    ({"listener.security.protocol.map": "A:TLS"}, "unknown security protocol 'TLS'"),
    ({"listener.security.protocol.map": "A:PLAINTEXT,a:PLAINTEXT"}, "listener A is mapped twice"),
    ({"listeners": "PLAINTEXT://h:1", "advertised.listeners": "OTHER://h:1"},
     "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners"),
    ({"listeners": "PLAINTEXT://0.0.0.0:1"}, "cannot use the nonroutable meta-address 0.0.0.0"),
    ({"listeners": "A://h:1,B://h:2", "listener.security.protocol.map": "A:PLAINTEXT,B:PLAINTEXT"},
     "inter.broker.listener.name must be a listener name defined in advertised.listeners. "
     "The valid options based on currently configured listeners are A,B"),
    ({"listeners": "A://h:1,B://h:2", "advertised.listeners": "A://h:1", "inter.broker.listener.name": "B",
      "listener.security.protocol.map": "A:PLAINTEXT,B:PLAINTEXT"}, "The valid options based on currently"),
    ({"inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"},
     "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set"),
    ({"security.inter.broker.protocol": "SSL"}, "only PLAINTEXT is supported"),
])
def test_bad_listener_settings_are_refused_with_kafkas_reason(properties: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BrokerConfig.from_properties(properties)


@given(st.dictionaries(st.sampled_from(["listeners", "advertised.listeners", "listener.security.protocol.map",
                                        "inter.broker.listener.name"]), st.text(max_size=40)))
def test_any_listener_text_is_read_or_refused_with_value_error(properties: dict[str, str]) -> None:
    try:
        BrokerConfig.from_properties(properties)
    except ValueError:
        pass
