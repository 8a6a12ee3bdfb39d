"""Protocol-level promises checked over a raw socket, where no client library smooths things over."""

import asyncio
import socket
import struct

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from cluster.broker.peer_client import PeerConnection
from cluster.broker.protocol.apis.api_versions import API_VERSIONS
from cluster.broker.protocol.apis.fetch import FETCH, FetchPartition, FetchRequest, FetchTopic
from cluster.broker.protocol.apis.metadata import METADATA, MetadataRequest
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RequestHeader
from cluster.broker.protocol.record_batch import iter_batches


def request(api, version: int, body, correlation_id: int) -> bytes:
    header = REQUEST_HEADER_V1.encode(RequestHeader(request_api_key=api.key, request_api_version=version,
                                                    correlation_id=correlation_id, client_id="raw"))
    payload = header + api.request_codecs[version].encode(body)
    return struct.pack(">i", len(payload)) + payload


def read_response(sock: socket.socket) -> tuple[int, memoryview]:
    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    size = struct.unpack(">i", exactly(4))[0]
    payload = exactly(size)
    return struct.unpack_from(">i", payload)[0], memoryview(payload)[4:]


def fetch(topic: str, offset: int, max_wait_ms: int, min_bytes: int, max_bytes: int, partition_max: int):
    return FetchRequest(replica_id=-1, max_wait_ms=max_wait_ms, min_bytes=min_bytes, max_bytes=max_bytes,
                        isolation_level=0, session_id=0, session_epoch=-1, topics=[
                            FetchTopic(topic=topic, partitions=[FetchPartition(partition=p, fetch_offset=offset,
                                                                               partition_max_bytes=partition_max)
                                                                for p in (0, 1)])],
                        forgotten_topics_data=[], rack_id="")


def produce(broker, topic: str, per_partition: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, batch_size=1024, linger_ms=0)
    for i in range(per_partition):
        for partition in (0, 1):
            producer.send(topic, value=b"v" * 200, partition=partition)
        producer.flush()
    producer.close()


def test_answers_leave_in_request_order_even_when_an_earlier_one_waits(broker):
    produce(broker, "ordered", 1)
    with socket.create_connection(("127.0.0.1", broker.port)) as sock:
        waiting_fetch = fetch("ordered", offset=1, max_wait_ms=1500, min_bytes=1, max_bytes=1 << 20,
                              partition_max=1 << 20)
        sock.sendall(request(FETCH, 11, waiting_fetch, correlation_id=1)
                     + request(METADATA, 8, MetadataRequest(topics=None, allow_auto_topic_creation=False,
                                                             include_cluster_authorized_operations=False,
                                                             include_topic_authorized_operations=False), 2))
        first, _ = read_response(sock)
        second, _ = read_response(sock)
    assert (first, second) == (1, 2)


def test_fetch_returns_whole_batches_within_the_response_budget_but_at_least_one(broker):
    produce(broker, "budgeted", 10)
    with socket.create_connection(("127.0.0.1", broker.port)) as sock:
        sock.sendall(request(FETCH, 11, fetch("budgeted", 0, 0, 1, max_bytes=1000, partition_max=1 << 20), 1))
        _, body = read_response(sock)
        response = FETCH.response_codecs[11].decode(body)
        sizes = {}
        for data in response.responses[0].partitions:
            sizes[data.partition_index] = [header.size for _, header in iter_batches(bytes(data.records))]
        # the first partition gets whole batches up to the budget; the second gets what is left: nothing
        assert 0 < sum(sizes[0]) <= 1000 + max(sizes[0]) and sizes[1] == []
        sock.sendall(request(FETCH, 11, fetch("budgeted", 0, 0, 1, max_bytes=10, partition_max=10), 2))
        _, body = read_response(sock)
        response = FETCH.response_codecs[11].decode(body)
        first = [header for _, header in iter_batches(bytes(response.responses[0].partitions[0].records))]
        assert len(first) == 1 and first[0].size > 10, "one whole batch even above the limits"


def test_calls_that_share_a_peer_connection_each_get_their_own_answer(broker):
    """The transaction coordinator sends markers to one leader from several transactions at once."""
    host, port = broker.bootstrap.split(":")

    async def calls() -> list[object]:
        connection = PeerConnection(host, int(port), 1 << 20)
        try:
            return await asyncio.gather(*(connection.call(API_VERSIONS, version, {}, 10) for version in [0, 1, 2] * 5))
        finally:
            connection.close()

    answers = asyncio.run(calls())  # an answer read by the wrong caller fails on its correlation id
    assert [answer.error_code for answer in answers] == [0] * 15
