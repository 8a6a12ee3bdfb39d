"""Three brokers with a CLIENT and a REPLICATION listener (inter.broker.listener.name=REPLICATION) on one keeper;
broker 3 has a third, EXTRA. Clients use CLIENT, followers fetch over REPLICATION only, every endpoint is
registered, and a listener that only some brokers have leaves the others out of Metadata, as in Kafka."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from cluster.broker.controller.view import ClusterView
from cluster.broker.protocol.apis.metadata import METADATA, MetadataRequest, MetadataRequestTopic
from cluster.broker.protocol.errors import ErrorCode
from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.status import read_view
from tests.broker.raw_call import call
from tests.deploy.kafka_io import consume, produce

TIMEOUT = 60.0
OVERRIDES = {
    "inter.broker.listener.name": "REPLICATION",
    "zookeeper.session.timeout.ms": "6000",
    "replica.fetch.wait.max.ms": "200",
    "offsets.topic.num.partitions": "3",
}


class ListenerCluster:
    def __init__(self, keeper_connect: str, brokers: dict[int, BrokerProcess]) -> None:
        self.keeper_connect = keeper_connect
        self.brokers = brokers

    @property
    def bootstrap(self) -> str:
        return self.brokers[1].address("CLIENT")

    def wait_view(self, holds: Callable[[ClusterView], bool], what: str) -> ClusterView:
        deadline = time.monotonic() + TIMEOUT
        while not holds(view := read_view(self.keeper_connect, timeout_s=10)):
            assert time.monotonic() < deadline, f"not within {TIMEOUT:g} s: {what}"
            time.sleep(0.3)
        return view

    def create_topic(self, name: str, partitions: int) -> ClusterView:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        admin.create_topics([NewTopic(name, partitions, 3, config={"min.insync.replicas": "2"})])[name].result(TIMEOUT)

        def in_sync(view: ClusterView) -> bool:
            states = [view.states.get((name, index)) for index in range(partitions)]
            return all(state is not None and len(state.isr) == 3 for state in states)

        return self.wait_view(in_sync, f"{name}'s partitions led with 3 in-sync replicas")


@pytest.fixture(scope="module")
def listener_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListenerCluster]:
    work: Path = tmp_path_factory.mktemp("listeners")
    with deploy(ClusterSpec(keepers=1, brokers=0), "local", work / "keeper") as keeper:
        brokers = {broker_id: BrokerProcess(work / f"broker-{broker_id}",
                                            ("CLIENT", "REPLICATION", "EXTRA")[:3 if broker_id == 3 else 2],
                                            **{**OVERRIDES, "broker.id": broker_id,
                                               "zookeeper.connect": keeper.keeper_connect})
                   for broker_id in (1, 2, 3)}
        try:
            for broker in brokers.values():
                broker.start()
            live = ListenerCluster(keeper.keeper_connect, brokers)
            live.wait_view(lambda view: view.live == {1, 2, 3} and view.controller is not None, "3 brokers registered")
            yield live
        finally:
            for broker in brokers.values():
                broker.kill()


def test_every_advertised_endpoint_is_registered_in_kafkas_layout(listener_cluster: ListenerCluster) -> None:
    client = KazooClient(hosts=listener_cluster.keeper_connect)
    client.start(timeout=10)
    try:
        registration = json.loads(client.get("/brokers/ids/3")[0])
    finally:
        client.stop()
        client.close()
    ports = listener_cluster.brokers[3].ports
    assert registration["endpoints"] == [f"{name}://127.0.0.1:{port}" for name, port in ports.items()]
    assert registration["listener_security_protocol_map"] == {name: "PLAINTEXT" for name in ports}
    assert (registration["host"], registration["port"], registration["version"]) == ("127.0.0.1", ports["CLIENT"], 5)


def test_followers_replicate_over_the_replication_listener_and_never_dial_a_client_one(listener_cluster: ListenerCluster) -> None:
    view = listener_cluster.create_topic("replicated", 1)
    leader = view.states[("replicated", 0)].leader
    values = [f"value {i}" for i in range(50)]
    produce(listener_cluster.bootstrap, "replicated", values)
    assert consume(listener_cluster.bootstrap, "replicated", len(values)) == values

    def dialled(broker_id: int) -> set[int]:
        process = psutil.Process(listener_cluster.brokers[broker_id].pid)
        return {c.raddr.port for c in process.net_connections("tcp") if c.raddr and c.status == psutil.CONN_ESTABLISHED}

    client_ports = {broker.ports["CLIENT"] for broker in listener_cluster.brokers.values()}
    for follower in {1, 2, 3} - {leader}:
        assert listener_cluster.brokers[leader].ports["REPLICATION"] in dialled(follower)
        assert not dialled(follower) & client_ports, f"broker {follower} connected to a CLIENT listener"


def test_a_listener_only_one_broker_has_names_only_that_broker(listener_cluster: ListenerCluster) -> None:
    """A partition led by a broker without the listener: LISTENER_NOT_FOUND from Metadata v6, LEADER_NOT_AVAILABLE
    before; its leader is not named."""
    view = listener_cluster.create_topic("spread", 3)
    leaders = {index: state.leader for (topic, index), state in view.states.items() if topic == "spread"}
    assert set(leaders.values()) - {3}, f"every partition is led by broker 3: {leaders}"
    for version, error in ((8, ErrorCode.LISTENER_NOT_FOUND), (5, ErrorCode.LEADER_NOT_AVAILABLE)):
        answer = call(listener_cluster.brokers[3].address("EXTRA"), METADATA, version,
                      MetadataRequest(topics=[MetadataRequestTopic(name="spread")], allow_auto_topic_creation=False))
        assert [(b.node_id, b.port) for b in answer.brokers] == [(3, listener_cluster.brokers[3].ports["EXTRA"])]
        described = {p.partition_index: (p.error_code, p.leader_id) for p in answer.topics[0].partitions}
        assert described == {index: (ErrorCode.NONE, 3) if leader == 3 else (error, -1)
                             for index, leader in leaders.items()}
