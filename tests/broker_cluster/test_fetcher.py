"""The follower's fetcher on the wire, against a scripted leader that speaks Kafka's protocol (our codecs).

What it must do: one Fetch at a time per leader, carrying every partition waiting to fetch; the
leader's log end asked with ListOffsets (its own replica id) after OFFSET_OUT_OF_RANGE, since Fetch
v11 does not carry it; an unreachable leader answered as NETWORK_EXCEPTION, never raised.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, Callable

from cluster.broker.config import BrokerConfig
from cluster.broker.protocol.apis import APIS, ApiKey
from cluster.broker.protocol.apis.fetch import FetchableTopicResponse, PartitionData
from cluster.broker.protocol.apis.fetch import FetchResponse as WireFetchResponse
from cluster.broker.protocol.apis.list_offsets import (
    ListOffsetsPartitionResponse,
    ListOffsetsResponse,
    ListOffsetsTopicResponse,
)
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.messages import encode_response, joined, read_request_header
from cluster.broker.replica_fetchers import ReplicaFetchers
from cluster.broker.replication import EpochEndOffsetResponse, FetchRequest, FetchResponse

FOLLOWER = 5
LEADER = 1
Answer = Callable[[ApiKey, Any], Any]


class ScriptedLeader:
    """Decodes each request, keeps it, and answers what `answer` returns for it."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[ApiKey, Any]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[:2]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack(">i", await reader.readexactly(4))[0]
                payload = memoryview(await reader.readexactly(size))
                header, start = read_request_header(payload)
                api = ApiKey(header.request_api_key)
                body = APIS[api].request_codecs[header.request_api_version].decode(payload, start)
                self.requests.append((api, body))
                writer.write(joined(encode_response(header, self.answer(api, body))))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()


class Heard:
    """The fetchers' listener: what each partition's core would be told."""

    def __init__(self) -> None:
        self.fetches: dict[tuple[str, int], FetchResponse] = {}
        self.epochs: dict[tuple[str, int], EpochEndOffsetResponse] = {}
        self.changed = asyncio.Event()

    def on_fetch_response(self, key: tuple[str, int], response: FetchResponse) -> None:
        self.fetches[key] = response
        self.changed.set()

    def on_epoch_end_offset(self, key: tuple[str, int], response: EpochEndOffsetResponse) -> None:
        self.epochs[key] = response
        self.changed.set()

    def log_start_offset(self, key: tuple[str, int]) -> int:
        return 0

    async def until(self, count: int) -> None:
        while len(self.fetches) < count:
            await asyncio.wait_for(self.changed.wait(), 10)
            self.changed.clear()


def fetch_answer(errors: dict[int, ErrorCode]) -> Answer:
    def answer(api: ApiKey, body: Any) -> Any:
        if api == ApiKey.LIST_OFFSETS:
            return ListOffsetsResponse(topics=[ListOffsetsTopicResponse(name=t.name, partitions=[
                ListOffsetsPartitionResponse(partition_index=p.partition_index, error_code=ErrorCode.NONE, offset=42)
                for p in t.partitions]) for t in body.topics])
        return WireFetchResponse(error_code=ErrorCode.NONE, session_id=0, responses=[
            FetchableTopicResponse(topic=t.topic, partitions=[
                PartitionData(partition_index=p.partition, error_code=errors.get(p.partition, ErrorCode.NONE),
                              high_watermark=7, last_stable_offset=7, log_start_offset=3, aborted_transactions=[],
                              records=None)
                for p in t.partitions])
            for t in body.topics])
    return answer


async def exchange(answer: Answer, partitions: int, registered: bool = True) -> tuple[ScriptedLeader, Heard]:
    leader = ScriptedLeader(answer)
    address = await leader.start()
    heard = Heard()
    fetchers = ReplicaFetchers(BrokerConfig(broker_id=FOLLOWER, replica_fetch_wait_max_ms=10),
                               lambda broker: address if registered and broker == LEADER else None, heard)
    try:
        for index in range(partitions):
            fetchers.fetch(LEADER, ("t", index), FetchRequest(FOLLOWER, 10 + index, 4, correlation=100 + index))
        await heard.until(partitions)
    finally:
        await fetchers.close()
        assert leader.server is not None
        leader.server.close()
    return leader, heard


def test_partitions_waiting_to_fetch_from_one_leader_share_one_fetch() -> None:
    leader, heard = asyncio.run(exchange(fetch_answer({}), partitions=3))
    (api, body), = leader.requests
    assert api == ApiKey.FETCH and body.replica_id == FOLLOWER and body.min_bytes == 1
    assert [(p.partition, p.fetch_offset, p.current_leader_epoch) for p in body.topics[0].partitions] == [
        (0, 10, 4), (1, 11, 4), (2, 12, 4)]
    assert {key: (r.correlation, r.error, r.high_watermark, r.records) for key, r in heard.fetches.items()} == {
        ("t", i): (100 + i, ErrorCode.NONE, 7, None) for i in range(3)}


def test_after_offset_out_of_range_the_leaders_log_end_comes_from_list_offsets() -> None:
    leader, heard = asyncio.run(exchange(fetch_answer({1: ErrorCode.OFFSET_OUT_OF_RANGE}), partitions=2))
    assert [api for api, _ in leader.requests] == [ApiKey.FETCH, ApiKey.LIST_OFFSETS]
    asked = leader.requests[1][1]
    assert asked.replica_id == FOLLOWER
    assert [(p.partition_index, p.timestamp) for p in asked.topics[0].partitions] == [(1, -1)]
    out_of_range = heard.fetches[("t", 1)]
    assert (out_of_range.error, out_of_range.log_end_offset, out_of_range.log_start_offset) == (
        ErrorCode.OFFSET_OUT_OF_RANGE, 42, 3)


def test_an_unregistered_leader_is_a_network_error_for_its_partitions() -> None:
    leader, heard = asyncio.run(exchange(fetch_answer({}), partitions=2, registered=False))
    assert leader.requests == []
    assert {key: r.error for key, r in heard.fetches.items()} == {
        ("t", 0): ErrorCode.NETWORK_EXCEPTION, ("t", 1): ErrorCode.NETWORK_EXCEPTION}
