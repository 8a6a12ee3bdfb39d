"""Codec speed on the broker's hot path, against kafka-python's own codec of the same messages.

Rows: decoding a Produce v8 request with 6 partitions (every produce the
broker takes), encoding and decoding a Fetch v11 response with 6 partitions
(every fetch it serves). Both codecs run interleaved in one process, so the
ratio holds on a loaded machine even when the absolute rates do not.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, Callable

from kafka.protocol.consumer import FetchResponse as KafkaPythonFetchResponse
from kafka.protocol.producer import ProduceRequest as KafkaPythonProduceRequest

from benchmarks._table import print_table
from cluster.broker.protocol.apis.fetch import FETCH, FetchableTopicResponse, FetchResponse, PartitionData
from cluster.broker.protocol.apis.produce import PRODUCE, PartitionProduceData, ProduceRequest, TopicProduceData

PARTITIONS = 6


def produce_request(batch: bytes) -> Any:
    return ProduceRequest(
        transactional_id=None,
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            TopicProduceData(
                name="logquake-queue",
                partition_data=[PartitionProduceData(index=i, records=batch) for i in range(PARTITIONS)],
            )
        ],
    )


def fetch_response(batch: bytes) -> Any:
    partitions = [
        PartitionData(partition_index=i, high_watermark=1000, last_stable_offset=1000, log_start_offset=0,
                      aborted_transactions=None, records=batch)
        for i in range(PARTITIONS)
    ]
    return FetchResponse(responses=[FetchableTopicResponse(topic="logquake-queue", partitions=partitions)])


def kafka_python_fetch_response(batch: bytes) -> Any:
    topic_class = KafkaPythonFetchResponse.FetchableTopicResponse
    partitions = [
        topic_class.PartitionData(partition_index=i, error_code=0, high_watermark=1000, last_stable_offset=1000,
                                  log_start_offset=0, aborted_transactions=None, preferred_read_replica=-1,
                                  records=batch)
        for i in range(PARTITIONS)
    ]
    return KafkaPythonFetchResponse[11](
        throttle_time_ms=0, error_code=0, session_id=0,
        responses=[topic_class(topic="logquake-queue", partitions=partitions)],
    )


def seconds(operation: Callable[[], Any], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        operation()
    return time.perf_counter() - start


def rates(ours: Callable[[], Any], baseline: Callable[[], Any], iterations: int, repeats: int) -> tuple[float, float]:
    """Operations per second of each, best of `repeats` rounds that alternate them, so both meet the same load."""
    best_ours = best_baseline = float("inf")
    for _ in range(repeats):
        best_ours = min(best_ours, seconds(ours, iterations))
        best_baseline = min(best_baseline, seconds(baseline, iterations))
    return iterations / best_ours, iterations / best_baseline


def cases(batch: bytes) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    produce_codec, fetch_codec = PRODUCE.request_codecs[8], FETCH.response_codecs[11]
    produce_bytes = produce_codec.encode(produce_request(batch))
    fetch = fetch_response(batch)
    fetch_bytes = fetch_codec.encode(fetch)
    kafka_python_fetch = kafka_python_fetch_response(batch)
    assert bytes(kafka_python_fetch.encode()) == fetch_bytes, "both codecs must encode the same message"
    return [
        ("Produce v8 request decode", lambda: produce_codec.decode(produce_bytes),
         lambda: KafkaPythonProduceRequest.decode(produce_bytes, version=8)),
        ("Fetch v11 response decode", lambda: fetch_codec.decode(fetch_bytes),
         lambda: KafkaPythonFetchResponse.decode(fetch_bytes, version=11)),
        ("Fetch v11 response encode", lambda: fetch_codec.encode_parts(fetch),
         lambda: kafka_python_fetch.encode(version=11)),
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks protocol_codec")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch-bytes", type=int, default=16384, help="records bytes per partition")
    args = parser.parse_args(argv)
    rows = []
    for name, ours, baseline in cases(os.urandom(args.batch_bytes)):
        our_rate, baseline_rate = rates(ours, baseline, args.iterations, args.repeats)
        rows.append([name, our_rate, baseline_rate, our_rate / baseline_rate])
    print_table(["message (6 partitions)", "logquake /s", "kafka-python /s", "ratio"], rows)
