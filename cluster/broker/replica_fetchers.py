"""The follower side of replication on the wire: one fetcher per leader broker, as Kafka's fetcher threads.

Each leader broker gets one connection and one request at a time, carrying every partition
whose core asked to fetch (or to learn an epoch's end) since the last one went out: a Fetch
that long-polls at the leader for replica.fetch.wait.max.ms with min_bytes 1 wakes as soon as
any of them has data. A request per partition would queue behind the others' long polls on
the leader's in-order connection.

Fetch v11 does not carry the leader's log end, which the core needs after OFFSET_OUT_OF_RANGE:
the fetcher then asks ListOffsets (latest, with its own replica id), as Kafka's does.

A leader that cannot be reached costs only its own partitions: their cores hear
NETWORK_EXCEPTION and retry after replica.fetch.backoff.ms; other leaders' fetchers carry on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Protocol

from cluster.broker.config import BrokerConfig
from cluster.broker.peer_client import PeerConnection, PeerError
from cluster.broker.protocol.apis import fetch as wire_fetch
from cluster.broker.protocol.apis import list_offsets as wire_list_offsets
from cluster.broker.protocol.apis import offset_for_leader_epoch as wire_epochs
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    UNDEFINED_EPOCH,
    UNDEFINED_OFFSET,
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchRequest,
    FetchResponse,
)

FETCH_VERSION = 11
EPOCHS_VERSION = 3
LIST_OFFSETS_VERSION = 5

TopicPartition = tuple[str, int]
AddressOf = Callable[[int], "tuple[str, int] | None"]

_log = logging.getLogger(__name__)


def error_code(value: int) -> ErrorCode:
    try:
        return ErrorCode(value)
    except ValueError:
        return ErrorCode.UNKNOWN_SERVER_ERROR


class FetcherListener(Protocol):
    """What the fetchers report to: the replica manager."""

    def on_fetch_response(self, key: TopicPartition, response: FetchResponse) -> None: ...
    def on_epoch_end_offset(self, key: TopicPartition, response: EpochEndOffsetResponse) -> None: ...
    def log_start_offset(self, key: TopicPartition) -> int: ...


class ReplicaFetchers:
    def __init__(self, config: BrokerConfig, address_of: AddressOf, listener: FetcherListener) -> None:
        self._config = config
        self._address_of = address_of
        self._listener = listener
        self._fetchers: dict[int, LeaderFetcher] = {}

    def fetch(self, leader: int, key: TopicPartition, request: FetchRequest) -> None:
        self._fetcher(leader).fetches[key] = request
        self._fetcher(leader).wake()

    def ask_epoch_end(self, leader: int, key: TopicPartition, request: EpochEndOffsetRequest) -> None:
        self._fetcher(leader).epoch_queries[key] = request
        self._fetcher(leader).wake()

    async def close(self) -> None:
        fetchers, self._fetchers = self._fetchers, {}
        await asyncio.gather(*(fetcher.close() for fetcher in fetchers.values()))

    def _fetcher(self, leader: int) -> LeaderFetcher:
        fetcher = self._fetchers.get(leader)
        if fetcher is None:
            fetcher = self._fetchers[leader] = LeaderFetcher(leader, self._config, self._address_of, self._listener)
        return fetcher


class LeaderFetcher:
    def __init__(self, leader: int, config: BrokerConfig, address_of: AddressOf, listener: FetcherListener) -> None:
        self.leader = leader
        self.fetches: dict[TopicPartition, FetchRequest] = {}
        self.epoch_queries: dict[TopicPartition, EpochEndOffsetRequest] = {}
        self._config = config
        self._address_of = address_of
        self._listener = listener
        self._connection: PeerConnection | None = None
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"fetcher-{leader}")

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self._connection is not None:
            self._connection.close()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            queries, self.epoch_queries = self.epoch_queries, {}
            if queries:
                await self._guarded(self._ask_epoch_ends(queries), queries, self._epoch_failed)
            fetches, self.fetches = self.fetches, {}
            if fetches:
                await self._guarded(self._fetch(fetches), fetches, self._fetch_failed)
            if self.fetches or self.epoch_queries:
                self._wake.set()

    async def _guarded(self, exchange: Any, asked: dict[TopicPartition, Any], failed: Callable[..., None]) -> None:
        """Runs one exchange; any failure answers every partition it carried with NETWORK_EXCEPTION."""
        try:
            await exchange
        except PeerError as error:
            _log.info("replica fetcher for broker %d: %s", self.leader, error)
            for key, request in asked.items():
                failed(key, request)
        except Exception:
            _log.exception("replica fetcher for broker %d failed; its partitions retry after a backoff", self.leader)
            for key, request in asked.items():
                failed(key, request)

    def _fetch_failed(self, key: TopicPartition, request: FetchRequest) -> None:
        self._listener.on_fetch_response(key, FetchResponse(
            request.correlation, ErrorCode.NETWORK_EXCEPTION, UNDEFINED_OFFSET, UNDEFINED_OFFSET, UNDEFINED_OFFSET,
        ))

    def _epoch_failed(self, key: TopicPartition, request: EpochEndOffsetRequest) -> None:
        self._listener.on_epoch_end_offset(key, EpochEndOffsetResponse(
            request.correlation, ErrorCode.NETWORK_EXCEPTION, UNDEFINED_EPOCH, UNDEFINED_OFFSET,
        ))

    async def _call(self, api: Any, version: int, body: Any) -> Any:
        address = self._address_of(self.leader)
        if address is None:
            raise PeerError(f"broker {self.leader} is not registered, or not with inter-broker listener "
                            f"{self._config.listeners.inter_broker}")
        connection = self._connection
        if connection is None or (connection.host, connection.port) != address:
            if connection is not None:
                connection.close()
            connection = self._connection = PeerConnection(*address, self._config.socket_request_max_bytes)
        return await connection.call(api, version, body, self._config.replica_socket_timeout_ms / 1000)

    # --- truncation: where does an epoch end? -----------------------------------------------------

    async def _ask_epoch_ends(self, queries: dict[TopicPartition, EpochEndOffsetRequest]) -> None:
        topics: dict[str, list[Any]] = {}
        for (topic, index), query in queries.items():
            topics.setdefault(topic, []).append(wire_epochs.OffsetForLeaderPartition(
                partition=index, current_leader_epoch=query.current_leader_epoch, leader_epoch=query.leader_epoch,
            ))
        body = wire_epochs.OffsetForLeaderEpochRequest(
            replica_id=self._config.broker_id,
            topics=[wire_epochs.OffsetForLeaderTopic(topic=topic, partitions=parts) for topic, parts in topics.items()],
        )
        response = await self._call(wire_epochs.OFFSET_FOR_LEADER_EPOCH, EPOCHS_VERSION, body)
        for topic in response.topics:
            for result in topic.partitions:
                query = queries.pop((topic.topic, result.partition), None)
                if query is not None:
                    self._listener.on_epoch_end_offset((topic.topic, result.partition), EpochEndOffsetResponse(
                        query.correlation, error_code(result.error_code), result.leader_epoch, result.end_offset,
                    ))
        for key, query in queries.items():  # not answered at all
            self._epoch_failed(key, query)

    # --- fetching -----------------------------------------------------------------------------------

    async def _fetch(self, fetches: dict[TopicPartition, FetchRequest]) -> None:
        topics: dict[str, list[Any]] = {}
        for (topic, index), request in fetches.items():
            topics.setdefault(topic, []).append(wire_fetch.FetchPartition(
                partition=index, current_leader_epoch=request.current_leader_epoch,
                fetch_offset=request.fetch_offset, log_start_offset=self._listener.log_start_offset((topic, index)),
                partition_max_bytes=self._config.replica_fetch_max_bytes,
            ))
        body = wire_fetch.FetchRequest(
            replica_id=self._config.broker_id, max_wait_ms=self._config.replica_fetch_wait_max_ms, min_bytes=1,
            max_bytes=self._config.replica_fetch_response_max_bytes, isolation_level=0, session_id=0,
            session_epoch=-1, topics=[wire_fetch.FetchTopic(topic=topic, partitions=parts) for topic, parts in topics.items()],
            forgotten_topics_data=[], rack_id="",
        )
        response = await self._call(wire_fetch.FETCH, FETCH_VERSION, body)
        answers: dict[TopicPartition, Any] = {
            (topic.topic, data.partition_index): data for topic in response.responses for data in topic.partitions
        }
        out_of_range = [key for key, data in answers.items()
                        if key in fetches and data.error_code == ErrorCode.OFFSET_OUT_OF_RANGE]
        log_ends = await self._log_ends(out_of_range, fetches) if out_of_range else {}
        for key, request in fetches.items():
            data = answers.get(key)
            if data is None or (data.error_code == ErrorCode.OFFSET_OUT_OF_RANGE and key not in log_ends):
                self._fetch_failed(key, request)
                continue
            records = data.records if data.records is not None and len(data.records) else None
            self._listener.on_fetch_response(key, FetchResponse(
                request.correlation, error_code(data.error_code), data.high_watermark, data.log_start_offset,
                log_ends.get(key, UNDEFINED_OFFSET), records,
            ))

    async def _log_ends(self, keys: list[TopicPartition], fetches: dict[TopicPartition, FetchRequest]) -> dict[TopicPartition, int]:
        """The leader's log end of each partition, which ListOffsets gives a replica asking for the latest."""
        topics: dict[str, list[Any]] = {}
        for topic, index in keys:
            topics.setdefault(topic, []).append(wire_list_offsets.ListOffsetsPartition(
                partition_index=index, current_leader_epoch=fetches[(topic, index)].current_leader_epoch,
                timestamp=wire_list_offsets.LATEST_TIMESTAMP,
            ))
        body = wire_list_offsets.ListOffsetsRequest(
            replica_id=self._config.broker_id, isolation_level=0,
            topics=[wire_list_offsets.ListOffsetsTopic(name=topic, partitions=parts) for topic, parts in topics.items()],
        )
        response = await self._call(wire_list_offsets.LIST_OFFSETS, LIST_OFFSETS_VERSION, body)
        return {
            (topic.name, answer.partition_index): answer.offset
            for topic in response.topics for answer in topic.partitions if answer.error_code == ErrorCode.NONE
        }
