"""A leader broker whose partitions a real follower replicates, its follower fetch fuzzed: refused fetches
never commit a write the follower lacks, and a seeded slice of the campaign (`python -m fuzzing
broker-follower`): Fetch, OffsetForLeaderEpoch and ListOffsets under the follower's id and others,
answered or refused as Kafka does, nothing internal logged on either broker, the follower's copy equal to
the leader's, the ISR whole, acks=all writes on the follower when acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaProducer

from cluster.broker.protocol.apis.fetch import FETCH, FetchPartition, FetchRequest, FetchTopic
from cluster.broker.protocol.apis.list_offsets import LIST_OFFSETS, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.schema import Api
from cluster.deploy.ports import HOST
from fuzzing import kafka_requests
from fuzzing.batch_reading import deadline_after
from fuzzing.broker_follower_target import FOLLOWER, LEADER, BrokerFollowerTarget
from fuzzing.broker_truth import disk_offsets
from fuzzing.campaign import run
from fuzzing.connection import Connection
from tests.fuzzing.slice import SLICE_SEED
from tests.polling import wait_until

FOLLOWER_SLICE_FRAMES = 1_500
"""About 20 s of frames, after about 20 s bringing up a keeper and two brokers and preloading the partitions."""
TOPIC = "fuzz-0"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerFollowerTarget]:
    with BrokerFollowerTarget(tmp_path_factory.mktemp("broker-follower")) as started:
        yield started


def test_refused_fetches_never_commit_an_acks_all_write_the_follower_lacks(target: BrokerFollowerTarget) -> None:
    epoch = target.epochs[TOPIC]
    held = _offset(target, FOLLOWER)  # the log end, which the follower holds: everything is replicated
    producer = KafkaProducer(bootstrap_servers=target.process.bootstrap, acks="all", request_timeout_ms=60_000)
    target.follower.pause()
    try:
        written = producer.send(TOPIC, b"waits for the follower", partition=0)
        end = wait_until(lambda: (found := _offset(target, FOLLOWER)) > held and found, "the leader appended the write")
        forged = {  # (replica id, current leader epoch, fetch offset): what the leader must answer
            (3, epoch, end): ErrorCode.REPLICA_NOT_AVAILABLE,
            (LEADER, epoch, end): ErrorCode.REPLICA_NOT_AVAILABLE,
            (FOLLOWER, epoch - 1, end): ErrorCode.FENCED_LEADER_EPOCH,
            (FOLLOWER, epoch + 1, end): ErrorCode.UNKNOWN_LEADER_EPOCH,
            (FOLLOWER, epoch, end + 1): ErrorCode.OFFSET_OUT_OF_RANGE,
            (FOLLOWER, epoch, held): ErrorCode.NONE,  # the truth: the follower holds up to `held`
            (FOLLOWER, epoch, 0): ErrorCode.NONE,  # less than it holds
        }
        answers = {fetch: _fetch(target, *fetch) for fetch in forged}
        assert answers == forged
        assert _offset(target, -1) == held, "the high watermark passed a write the follower does not hold"
        assert not written.is_done
    finally:
        target.follower.resume()
    offset = written.get(timeout=60).offset
    producer.close()
    assert offset == held and disk_offsets(target.follower.data_dir / f"{TOPIC}-0")[1] > offset


@pytest.mark.slow
def test_seeded_slice_of_follower_fetch_fuzzing_finds_nothing(target: BrokerFollowerTarget) -> None:
    report = run(target, FOLLOWER_SLICE_FRAMES, SLICE_SEED, client_every=FOLLOWER_SLICE_FRAMES // 2)
    assert report.failures == [], "\n".join(report.lines())
    assert report.exit_code is None
    assert report.frames == FOLLOWER_SLICE_FRAMES and report.client_checks == 3


def _fetch(target: BrokerFollowerTarget, replica_id: int, epoch: int, offset: int) -> ErrorCode:
    partition = FetchPartition(partition=0, current_leader_epoch=epoch, fetch_offset=offset, partition_max_bytes=1 << 20)
    request = FetchRequest(replica_id=replica_id, max_wait_ms=0, min_bytes=0,
                           topics=[FetchTopic(topic=TOPIC, partitions=[partition])])
    return ErrorCode(_ask(target, FETCH, 11, request).responses[0].partitions[0].error_code)


def _offset(target: BrokerFollowerTarget, replica_id: int) -> int:
    """ListOffsets latest: the log end for a replica id, the high watermark for a consumer (-1)."""
    topics = [ListOffsetsTopic(name=TOPIC, partitions=[ListOffsetsPartition(partition_index=0, timestamp=-1)])]
    return _ask(target, LIST_OFFSETS, 1, ListOffsetsRequest(replica_id=replica_id, topics=topics)).topics[0].partitions[0].offset


def _ask(target: BrokerFollowerTarget, api: Api, version: int, body: Any) -> Any:
    connection = Connection(HOST, target.process.port)
    try:
        connection.send(kafka_requests.framed_request(api, version, 1, body))
        payload = connection.read_frame(deadline_after(0))
    finally:
        connection.close()
    assert payload is not None, "the leader closed the connection"
    return api.response_codecs[version].decode(payload, 4)
