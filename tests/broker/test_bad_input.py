"""Hostile and broken clients: each loses at most its own connection; the broker and its data are untouched."""

import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from cluster.broker.protocol.apis import ApiKey
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.headers import REQUEST_HEADER_V1, RequestHeader
from cluster.broker.protocol.records import Record, build_batch
from cluster.deploy.broker_process import BrokerProcess

TOPIC = "guarded"
GOOD_VALUES = [b"good-%d" % i for i in range(20)]


@pytest.fixture(scope="module")
def guarded_broker(tmp_path_factory):
    with BrokerProcess(tmp_path_factory.mktemp("bad-input") / "data") as broker:
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        for value in GOOD_VALUES:
            producer.send(TOPIC, value=value)
        producer.flush()
        producer.close()
        yield broker


def exchange(broker: BrokerProcess, data: bytes, read_timeout: float = 0.3) -> bytes:
    """Sends raw bytes, returns whatever comes back before the broker closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(read_timeout)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def request_frame(api_key: int, version: int, body: bytes, correlation_id: int = 7) -> bytes:
    header = REQUEST_HEADER_V1.encode(RequestHeader(request_api_key=api_key, request_api_version=version,
                                                    correlation_id=correlation_id, client_id="fuzzer"))
    return framed(header + body)


def assert_still_serving(broker: BrokerProcess) -> None:
    """Another client still gets ApiVersions, and the topic holds exactly the good messages."""
    reply = exchange(broker, request_frame(ApiKey.API_VERSIONS, 2, b"", correlation_id=99), read_timeout=2)
    size, correlation_id, error = struct.unpack_from(">iih", reply)
    assert (len(reply), correlation_id, error) == (size + 4, 99, ErrorCode.NONE)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    partition = TopicPartition(TOPIC, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    values = []
    while len(values) < len(GOOD_VALUES):
        batch = consumer.poll(timeout_ms=2000).get(partition, [])
        assert batch, "the broker stopped serving good data"
        values += [record.value for record in batch]
    assert values == GOOD_VALUES
    assert consumer.end_offsets([partition]) == {partition: len(GOOD_VALUES)}
    consumer.close()


def produce_frame(records: bytes, correlation_id: int = 8) -> bytes:
    request = ProduceRequest(transactional_id=None, acks=1, timeout_ms=5000, topic_data=[
        TopicProduceData(name=TOPIC, partition_data=[PartitionProduceData(index=0, records=records)])
    ])
    return request_frame(ApiKey.PRODUCE, 8, PRODUCE.request_codecs[8].encode(request), correlation_id)


def partition_error_of(reply: bytes) -> int:
    body = PRODUCE.response_codecs[8].decode(memoryview(reply)[8:])
    return body.responses[0].partition_responses[0].error_code


def test_a_batch_with_a_bad_crc_is_refused_and_never_stored(guarded_broker):
    batch = build_batch([Record(offset=0, timestamp=1, value=b"evil")])
    batch[-1] ^= 0xFF
    assert partition_error_of(exchange(guarded_broker, produce_frame(bytes(batch)), 2)) == ErrorCode.CORRUPT_MESSAGE
    assert_still_serving(guarded_broker)


def test_oversized_batches_and_bad_acks_get_their_errors(guarded_broker):
    huge = build_batch([Record(offset=0, timestamp=1, value=b"x" * 1_100_000)])
    assert partition_error_of(exchange(guarded_broker, produce_frame(bytes(huge)), 5)) == ErrorCode.MESSAGE_TOO_LARGE
    request = ProduceRequest(transactional_id=None, acks=5, timeout_ms=5000, topic_data=[
        TopicProduceData(name=TOPIC, partition_data=[PartitionProduceData(index=0, records=b"")])])
    reply = exchange(guarded_broker, request_frame(ApiKey.PRODUCE, 8, PRODUCE.request_codecs[8].encode(request)), 2)
    assert partition_error_of(reply) == ErrorCode.INVALID_REQUIRED_ACKS
    assert_still_serving(guarded_broker)


@pytest.mark.parametrize(
    "data",
    [
        struct.pack(">i", -5) + b"abc",
        struct.pack(">i", 2**31 - 1) + b"abc",
        framed(b"\x00"),
        request_frame(12345, 0, b""),
        request_frame(ApiKey.FETCH, 99, b""),
        request_frame(ApiKey.METADATA, 8, b"\x00\x00\x00\x05"),
    ],
    ids=["negative-length", "oversized-length", "truncated-header", "unknown-api", "unknown-version", "bad-body"],
)
def test_malformed_frames_close_only_their_connection(guarded_broker, data):
    exchange(guarded_broker, data)
    assert_still_serving(guarded_broker)


VALID_PRODUCE = produce_frame(bytes(build_batch([Record(offset=0, timestamp=1, value=b"v" * 40)])))
GARBAGE = st.one_of(
    st.binary(max_size=200),
    st.builds(framed, st.binary(max_size=200)),
    st.builds(lambda key, version, body: request_frame(key, version, body),
              st.sampled_from(list(ApiKey)), st.integers(0, 12), st.binary(max_size=100)),
    st.integers(0, len(VALID_PRODUCE) - 1).map(lambda cut: VALID_PRODUCE[:cut]),
)


def test_random_garbage_never_hurts_the_broker(guarded_broker):
    @settings(max_examples=150)
    @given(GARBAGE)
    def send(data: bytes) -> None:
        exchange(guarded_broker, data, read_timeout=0.05)

    send()
    assert_still_serving(guarded_broker)
    assert "Traceback" not in guarded_broker.log_text()
