"""One broker with two named listeners, its CLIENT one advertised at a relay in front of it (as a proxy would be):
real clients (librdkafka through confluent-kafka, kafka-python) are told the endpoints of the listener they
came in on, and then use them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient

from cluster.broker.protocol.apis.find_coordinator import FIND_COORDINATOR, FindCoordinatorRequest
from cluster.deploy.broker_process import BrokerProcess
from tests.broker.raw_call import TIMEOUT, call
from tests.keeper_ensemble.relay import Relay


class TwoListenerBroker:
    def __init__(self, process: BrokerProcess, relay: Relay) -> None:
        self.process = process
        self.relay = relay

    @property
    def advertised(self) -> dict[str, str]:
        return {"CLIENT": self.relay.address, "REPLICATION": f"localhost:{self.process.ports['REPLICATION']}"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoListenerBroker]:
    process = BrokerProcess(tmp_path_factory.mktemp("listeners") / "data", ("CLIENT", "REPLICATION"),
                            **{"inter.broker.listener.name": "REPLICATION"})
    with Relay(process.address("CLIENT")) as relay:
        running = TwoListenerBroker(process, relay)
        process.overrides["advertised.listeners"] = ",".join(
            f"{name}://{address}" for name, address in running.advertised.items())
        with process:
            yield running


@pytest.mark.parametrize("listener", ["CLIENT", "REPLICATION"])
def test_metadata_names_the_broker_by_its_endpoint_on_the_listener_asked(broker: TwoListenerBroker, listener: str) -> None:
    bound = broker.process.address(listener)
    librdkafka = AdminClient({"bootstrap.servers": bound}).list_topics(timeout=TIMEOUT).brokers
    assert [f"{b.host}:{b.port}" for b in librdkafka.values()] == [broker.advertised[listener]]
    admin = KafkaAdminClient(bootstrap_servers=bound)
    try:
        kafka_python = admin.describe_cluster()["brokers"]
    finally:
        admin.close()
    assert [f"{b['host']}:{b['port']}" for b in kafka_python] == [broker.advertised[listener]]


@pytest.mark.parametrize("listener", ["CLIENT", "REPLICATION"])
def test_find_coordinator_names_the_coordinator_on_the_listener_asked(broker: TwoListenerBroker, listener: str) -> None:
    """Asked again while the first question creates __consumer_offsets (COORDINATOR_NOT_AVAILABLE until it has)."""
    deadline = time.monotonic() + TIMEOUT
    while (answer := call(broker.process.address(listener), FIND_COORDINATOR, 2,
                          FindCoordinatorRequest(key="listening", key_type=0))).error_code != 0:
        assert time.monotonic() < deadline, f"no coordinator within {TIMEOUT} s: {answer}"
        time.sleep(0.2)
    assert f"{answer.host}:{answer.port}" == broker.advertised[listener]


def test_clients_bootstrapped_at_the_bound_port_produce_and_consume_through_the_advertised_one(
        broker: TwoListenerBroker) -> None:
    before = broker.relay.relayed
    bootstrap = broker.process.address("CLIENT")
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    values = [f"through the relay {i}".encode() for i in range(20)]
    for value in values:
        producer.produce("advertised", value, partition=0)
    assert producer.flush(TIMEOUT) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "relayed", "auto.offset.reset": "earliest"})
    consumer.subscribe(["advertised"])
    seen: list[bytes] = []
    try:
        for _ in range(TIMEOUT * 2):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen.append(message.value())
            if len(seen) == len(values):
                break
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    assert seen == values
    assert broker.relay.relayed > before, "the clients never connected to the advertised endpoint"
