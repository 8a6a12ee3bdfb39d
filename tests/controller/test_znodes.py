"""Kafka's znode layout: each record both ways, Kafka's own bytes read, and bad data refused by one error."""

from __future__ import annotations

import json
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.controller import znodes
from cluster.broker.endpoints import Endpoint
from cluster.broker.metadata.znode_json import ZnodeError

broker_ids = st.integers(0, 2**31 - 1)
assignments = st.dictionaries(
    st.integers(0, 1000), st.lists(broker_ids, min_size=1, max_size=5, unique=True).map(tuple), min_size=1
)


listener_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,11}", fullmatch=True)
endpoints = st.builds(Endpoint, listener_names, st.sampled_from(["127.0.0.1", "broker-1.example", "::1"]),
                      st.integers(0, 65535))


@given(broker_ids, st.lists(endpoints, min_size=1, max_size=4, unique_by=lambda endpoint: endpoint.listener))
def test_broker_registration_round_trip_keeps_every_endpoint_in_order(broker_id: int, listed: list[Endpoint]) -> None:
    registration = znodes.BrokerRegistration(broker_id, tuple(listed))
    data = registration.to_json(1700000000000)
    assert znodes.BrokerRegistration.from_json(broker_id, data) == registration
    stored = json.loads(data)
    assert stored["version"] == 5
    assert stored["listener_security_protocol_map"] == {endpoint.listener: "PLAINTEXT" for endpoint in listed}
    assert (stored["host"], stored["port"]) == (listed[0].host, listed[0].port)


def test_reads_a_registration_kafka_wrote_keeping_its_plaintext_listeners() -> None:
    data = (b'{"features":{},"listener_security_protocol_map":{"CLIENT":"PLAINTEXT","SSL":"SSL",'
            b'"REPLICATION":"PLAINTEXT"},"endpoints":["CLIENT://h:9092","SSL://h:9093","REPLICATION://[::1]:9094"],'
            b'"jmx_port":-1,"port":9092,"host":"h","version":5,"timestamp":"1700000000000"}')
    registration = znodes.BrokerRegistration.from_json(3, data)
    assert registration.endpoints == (Endpoint("CLIENT", "h", 9092), Endpoint("REPLICATION", "::1", 9094))
    assert registration.endpoint("REPLICATION") == Endpoint("REPLICATION", "::1", 9094)
    assert registration.endpoint("SSL") is None


def test_reads_a_version_2_registration_whose_listeners_are_named_by_protocol() -> None:
    data = b'{"version":2,"host":"h","port":9092,"endpoints":["PLAINTEXT://h:9092","SSL://h:9093"]}'
    assert znodes.BrokerRegistration.from_json(1, data) == znodes.BrokerRegistration.plaintext(1, "h", 9092)


@given(assignments)
def test_assignment_round_trip_in_kafkas_layout(assignment: dict[int, tuple[int, ...]]) -> None:
    data = znodes.assignment_json(assignment)
    assert znodes.assignment_from_json(data) == assignment
    assert json.loads(data)["version"] == 2


def test_reads_a_version_1_assignment() -> None:
    assert znodes.assignment_from_json(b'{"version":1,"partitions":{"1":[2,3],"0":[1,2]}}') == {0: (1, 2), 1: (2, 3)}


@given(st.dictionaries(st.text(), st.text()))
def test_topic_config_round_trip(configs: dict[str, str]) -> None:
    assert znodes.topic_config_from_json(znodes.topic_config_json(configs)) == configs


def test_controller_and_epoch_znodes_hold_what_kafka_writes() -> None:
    assert znodes.controller_id(znodes.controller_json(4, 1700000000000)) == 4
    assert znodes.controller_id(b'{"version":2,"brokerid":7,"timestamp":"1","kraftControllerEpoch":-1}') == 7
    assert znodes.epoch_from_bytes(znodes.epoch_bytes(12)) == 12 and znodes.epoch_bytes(12) == b"12"


@pytest.mark.parametrize(
    ("read", "data"),
    [
        (lambda data: znodes.BrokerRegistration.from_json(1, data), b'{"endpoints":["SSL://h:1"]}'),
        (lambda data: znodes.BrokerRegistration.from_json(1, data), b'{"host":"h","port":1}'),
        (lambda data: znodes.BrokerRegistration.from_json(1, data), b'{"endpoints":["CLIENT://h:x"]}'),
        (lambda data: znodes.BrokerRegistration.from_json(1, data),
         b'{"endpoints":["A://h:1"],"listener_security_protocol_map":{"A":"SSL"}}'),
        (lambda data: znodes.BrokerRegistration.from_json(1, data),
         b'{"endpoints":["A://h:1"],"listener_security_protocol_map":[]}'),
        (znodes.assignment_from_json, b'{"partitions":{"x":[1]}}'),
        (znodes.assignment_from_json, '{"partitions":{"²":[1]}}'.encode()),
        (znodes.assignment_from_json, b'{"partitions":{"0":[]}}'),
        (znodes.assignment_from_json, b'{"partitions":{"0":[true]}}'),
        (znodes.topic_config_from_json, b'{"config":{"a":1}}'),
        (znodes.controller_id, b'{"brokerid":"1"}'),
        (znodes.epoch_from_bytes, b"one"),
        (znodes.assignment_from_json, b"[" * 100000),
    ],
)
def test_bad_znodes_are_refused_by_name(read: Callable[[bytes], object], data: bytes) -> None:
    with pytest.raises(ZnodeError):
        read(data)


@given(st.binary(max_size=80))
def test_random_bytes_raise_only_znode_error(data: bytes) -> None:
    for read in (znodes.assignment_from_json, znodes.topic_config_from_json, znodes.controller_id,
                 znodes.epoch_from_bytes, lambda data: znodes.BrokerRegistration.from_json(1, data)):
        try:
            read(data)
        except ZnodeError:
            pass
