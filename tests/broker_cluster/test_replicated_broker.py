"""Three real brokers replicating through one keeper, seen by real clients (confluent-kafka, kafka-python)."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition

from cluster.broker.groups.offsets import OFFSETS_TOPIC, partition_for_group
from cluster.broker.protocol.apis.find_coordinator import FIND_COORDINATOR, FindCoordinatorRequest
from cluster.broker.protocol.apis.offset_fetch import OFFSET_FETCH, OffsetFetchRequest, OffsetFetchRequestTopic
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RequestHeader
from cluster.broker.protocol.records import Record, build_batch
from cluster.broker.protocol.schema import Api
from cluster.deploy.node import Node
from cluster.deploy.status import read_view
from tests.live_cluster import FAILOVER_TIMEOUT as TIMEOUT


def produce(bootstrap: str, topic: str, values: list[bytes], acks: str, **config: object) -> list[KafkaError | None]:
    """Give only brokers that run as `bootstrap`: a paused one would swallow the client's Metadata request."""
    errors: list[KafkaError | None] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5, **config})
    for value in values:
        producer.produce(topic, value, partition=0, on_delivery=lambda error, _message: errors.append(error))
        producer.poll(0)
    assert producer.flush(TIMEOUT) == 0
    return errors


def high_watermark(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def test_metadata_shows_the_brokers_the_controller_and_each_partitions_leader_replicas_and_isr(cluster):
    view = cluster.create_topic("described", 2)
    metadata = AdminClient({"bootstrap.servers": cluster.bootstrap}).list_topics(timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    assert metadata.controller_id == view.controller
    for index, partition in metadata.topics["described"].partitions.items():
        state = view.states[("described", index)]
        assert partition.leader == state.leader
        assert partition.replicas == list(view.replicas("described", index))
        assert sorted(partition.isrs) == sorted(state.isr) == [1, 2, 3]


def test_acks_all_writes_are_consumed_from_the_leader_in_order(cluster):
    cluster.create_topic("ordered", 1, {"min.insync.replicas": "2"})
    values = [b"%d" % i for i in range(300)]
    assert produce(cluster.bootstrap, "ordered", values, "all", **{"enable.idempotence": True}) == [None] * 300
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=int(TIMEOUT * 1000))
    consumer.assign([KafkaTopicPartition("ordered", 0)])
    seen = []
    for message in consumer:
        seen.append((message.offset, message.value))
        if len(seen) == len(values):
            break
    consumer.close()
    assert seen == list(enumerate(values))


def raw_call(node: Node, api: Api, version: int, body: Any) -> Any:
    """One request straight to one broker, none of a client's retries or redirections."""
    header = REQUEST_HEADER_V1.encode(RequestHeader(request_api_key=api.key, request_api_version=version,
                                                    correlation_id=7, client_id="raw"))
    payload = header + api.request_codecs[version].encode(body)
    with socket.create_connection((node.host, node.port), timeout=30) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sock.recv(65536)
            assert chunk, "the broker closed the connection"
            data += chunk
    return api.response_codecs[version].decode(memoryview(data)[8:])


def raw_produce(node: Node, topic: str) -> int:
    """One acks=1 Produce v8 to partition 0; returns its error code."""
    body = ProduceRequest(transactional_id=None, acks=1, timeout_ms=10_000, topic_data=[TopicProduceData(
        name=topic, partition_data=[PartitionProduceData(
            index=0, records=bytes(build_batch([Record(offset=0, timestamp=int(time.time() * 1000), value=b"x")])))],
    )])
    return raw_call(node, PRODUCE, 8, body).responses[0].partition_responses[0].error_code


def test_a_follower_refuses_produce_and_the_client_finds_the_leader(cluster):
    view = cluster.create_topic("led", 1)
    leader = view.states[("led", 0)].leader
    follower = next(broker for broker in (1, 2, 3) if broker != leader)
    assert raw_produce(cluster.broker(follower), "led") == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert raw_produce(cluster.broker(leader), "led") == ErrorCode.NONE

    producer = KafkaProducer(bootstrap_servers=cluster.broker(follower).address, acks="all")
    sent = producer.send("led", b"found", partition=0).get(timeout=TIMEOUT)
    producer.close()
    assert sent.offset == 1


def test_a_stopped_follower_leaves_the_isr_and_rejoins_when_it_resumes(cluster):
    view = cluster.create_topic("lagging", 1)
    leader = view.states[("lagging", 0)].leader
    follower = next(broker for broker in (1, 2, 3) if broker != leader)
    cluster.broker(follower).pause()
    cluster.wait_view(lambda v: follower not in v.states[("lagging", 0)].isr, f"broker {follower} out of the ISR")
    assert produce(cluster.broker(leader).address, "lagging", [b"while away"], "all") == [None], \
        "two in-sync replicas still meet min ISR 1"
    cluster.broker(follower).resume()
    cluster.wait_view(lambda v: follower in v.states[("lagging", 0)].isr, f"broker {follower} back in the ISR")


def test_the_high_watermark_moves_only_while_the_isr_meets_its_minimum(cluster):
    view = cluster.create_topic("guarded", 1, {"min.insync.replicas": "2"})
    leader = view.states[("guarded", 0)].leader
    at_leader = cluster.broker(leader).address
    assert produce(at_leader, "guarded", [b"committed"], "all") == [None]
    followers = [broker for broker in (1, 2, 3) if broker != leader]
    for follower in followers:
        cluster.broker(follower).pause()
    cluster.wait_view(lambda v: v.states[("guarded", 0)].isr == (leader,), f"broker {leader} alone in the ISR")

    refused = produce(at_leader, "guarded", [b"refused"], "all", **{"message.timeout.ms": 5000, "retries": 0})
    assert [error.code() for error in refused if error] == [KafkaError.NOT_ENOUGH_REPLICAS]
    assert produce(at_leader, "guarded", [b"uncommitted"], "1") == [None]
    assert high_watermark(at_leader, "guarded") == 1, "below min ISR the acks=1 write is not committed"

    cluster.broker(followers[0]).resume()
    cluster.wait_view(lambda v: len(v.states[("guarded", 0)].isr) == 2, "a second replica back in the ISR")
    deadline = time.monotonic() + TIMEOUT
    while high_watermark(at_leader, "guarded") != 2:
        assert time.monotonic() < deadline, "the high watermark did not move once the ISR met its minimum"
        time.sleep(0.3)


def test_create_topics_answers_once_every_partition_has_a_leader(cluster):
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    admin.create_topics([NewTopic("eager", 6, 3)], operation_timeout=30)["eager"].result(60)
    view = read_view(cluster.deployment.keeper_connect)
    assert all(view.states[("eager", index)].online for index in range(6)), "no waiting for LEADER_NOT_AVAILABLE"


def test_the_group_coordinator_is_the_leader_of_the_groups_offsets_partition(cluster):
    cluster.create_topic("grouped", 1)
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "g", "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition("grouped", 0, 5)], asynchronous=False)
    consumer.close()

    found = raw_call(cluster.broker(1), FIND_COORDINATOR, 1, FindCoordinatorRequest(key="g", key_type=0))
    view = read_view(cluster.deployment.keeper_connect)
    offsets_partition = partition_for_group("g", len(view.topics[OFFSETS_TOPIC].assignment))
    assert found.error_code == ErrorCode.NONE
    assert found.node_id == view.states[(OFFSETS_TOPIC, offsets_partition)].leader

    ask = OffsetFetchRequest(group_id="g", topics=[OffsetFetchRequestTopic(name="grouped", partition_indexes=[0])])
    for broker in (1, 2, 3):
        answer = raw_call(cluster.broker(broker), OFFSET_FETCH, 5, ask)
        if broker == found.node_id:
            assert (answer.error_code, answer.topics[0].partitions[0].committed_offset) == (ErrorCode.NONE, 5)
        else:
            assert answer.error_code == ErrorCode.NOT_COORDINATOR
