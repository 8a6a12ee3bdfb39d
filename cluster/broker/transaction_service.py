"""The transaction coordinator at work on a broker: its log, its markers, its timeouts, its failover.

A transactional id's coordinator is the leader of its __transaction_state partition (Kafka's
hash of the id, as for groups). Each decision of the sans-IO coordinator is appended there
with acks=all before it takes effect. A decided commit or abort then has a marker written
in every partition of the transaction, by that partition's leader: this broker appends its
own, other brokers are sent WriteTxnMarkers; a marker that cannot be written yet is retried
until it is, or until this broker stops coordinating the id. Only then is the transaction
complete. A broker that takes over a __transaction_state partition replays it and finishes
the commits and aborts its predecessor decided; open transactions are aborted by timeout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Protocol

from cluster.broker.config import BrokerConfig
from cluster.broker.controller.view import ClusterView
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.log.clock import Clock
from cluster.broker.membership import Membership
from cluster.broker.replica_manager import ReplicaManager
from cluster.broker.topics import TopicRegistry
from cluster.broker.internal_records import InternalRecordError
from cluster.broker.log.errors import StorageError
from cluster.broker.partition import Partition
from cluster.broker.peer_client import PeerConnection, PeerError
from cluster.broker.producer_state import SequenceError
from cluster.broker.protocol.apis.write_txn_markers import (
    WRITE_TXN_MARKERS,
    WritableTxnMarker,
    WritableTxnMarkerTopic,
    WriteTxnMarkersRequest,
)
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.records import Record, build_batch, decode_records
from cluster.broker.groups.offsets import partition_for_group
from cluster.broker.replication import Role
from cluster.broker.transactions.coordinator import Decision, TransactionCoordinator
from cluster.broker.transactions.markers import marker_batch
from cluster.broker.transactions.state_records import (
    TRANSACTION_STATE_TOPIC,
    TopicPartition,
    TxnMetadata,
    TxnState,
    decode_key,
    decode_value,
    encode_key,
    encode_value,
)


class Host(Protocol):
    """What the service uses of its broker (Broker is one)."""

    config: BrokerConfig
    clock: Clock
    topics: TopicRegistry
    replicas: ReplicaManager
    membership: Membership | None

    def view(self) -> ClusterView: ...
    def data_appended(self) -> None: ...
    def commit_error(self, append_error: ErrorCode) -> ErrorCode: ...
    def transaction_ended_in(self, partition: Partition, producer_id: int, commit: bool) -> None: ...
    async def ensure_internal_topic(self, name: str, partitions: int, replication_factor: int,
                                    min_insync_replicas: int) -> None: ...

ACKS_ALL = -1
MARKER_RETRY_S = 0.1
_log = logging.getLogger(__name__)


class TransactionService:
    def __init__(self, broker: Host) -> None:
        self._broker = broker
        self.coordinator = TransactionCoordinator(broker.config.transaction_max_timeout_ms)
        self._completions: set[asyncio.Task[None]] = set()
        self._peers: dict[int, PeerConnection] = {}

    # --- which broker coordinates an id ---------------------------------------------------------------

    async def ensure_topic(self) -> None:
        config = self._broker.config
        if TRANSACTION_STATE_TOPIC not in self._broker.view().topics:
            await self._broker.ensure_internal_topic(TRANSACTION_STATE_TOPIC, config.transaction_state_partitions,
                                                     config.transaction_state_replication_factor,
                                                     config.transaction_state_min_isr)

    async def find_coordinator(self, transactional_id: str) -> BrokerRegistration | None:
        await self.ensure_topic()
        index = self.state_partition_index(transactional_id)
        state = self._broker.view().states.get((TRANSACTION_STATE_TOPIC, index)) if index is not None else None
        return self._broker.view().brokers.get(state.leader) if state is not None else None

    def state_partition_index(self, transactional_id: str) -> int | None:
        info = self._broker.view().topics.get(TRANSACTION_STATE_TOPIC)
        return partition_for_group(transactional_id, len(info.assignment)) if info and info.assignment else None

    def _state_partition(self, transactional_id: str) -> Partition | None:
        index = self.state_partition_index(transactional_id)
        return None if index is None else self._broker.topics.partition(TRANSACTION_STATE_TOPIC, index)

    def coordinates(self, transactional_id: str) -> bool:
        partition = self._state_partition(transactional_id)
        return partition is not None and partition.replica.role == Role.LEADER

    # --- carrying out decisions -----------------------------------------------------------------------

    async def carry_out(self, decision: Decision) -> ErrorCode:
        """Writes the decision's metadata (if any) and answers its error, or why the write failed.

        A prepared commit or abort goes on to its markers in the background: the producer is
        answered once the decision is durable, as Kafka does."""
        if decision.write is None:
            return decision.error
        written = await self._write_state(decision.write)
        if written is not ErrorCode.NONE:
            return written
        if decision.write.state in (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT):
            self._complete_in_background(decision.write)
        return decision.error

    async def _write_state(self, metadata: TxnMetadata) -> ErrorCode:
        partition = self._state_partition(metadata.transactional_id)
        if partition is None or partition.replica.role != Role.LEADER:
            return ErrorCode.NOT_COORDINATOR
        self.coordinator.begin_write(metadata)
        record = Record(offset=0, timestamp=self._broker.clock(), key=encode_key(metadata.transactional_id),
                        value=encode_value(metadata))
        error = await self._append(partition, build_batch([record]))
        self.coordinator.end_write(metadata, error is ErrorCode.NONE)
        return self._broker.commit_error(error)

    async def _append(self, partition: Partition, batch: bytearray) -> ErrorCode:
        try:
            appended = self._broker.replicas.produce(partition, batch, ACKS_ALL,
                                                     self._broker.config.offsets_commit_timeout_ms)
        except SequenceError as error:
            return error.code
        except StorageError as error:
            _log.warning("%s: could not append: %s", partition.name, error)
            return ErrorCode.NOT_COORDINATOR
        self._broker.data_appended()
        return (await appended).error

    def _complete_in_background(self, prepared: TxnMetadata) -> None:
        task = asyncio.ensure_future(self._complete(prepared))
        self._completions.add(task)
        task.add_done_callback(self._completions.discard)

    async def _complete(self, prepared: TxnMetadata) -> None:
        """Writes every marker of a decided transaction, then its completion; gives up only when this
        broker no longer coordinates the id (its successor finishes the job)."""
        transactional_id = prepared.transactional_id
        remaining = set(prepared.partitions)
        while self.coordinator.get(transactional_id) == prepared:
            remaining = await self._write_markers(prepared, remaining)
            if not remaining:
                if await self._write_state(self.coordinator.completed(prepared, self._broker.clock())) is ErrorCode.NONE:
                    return
            await asyncio.sleep(MARKER_RETRY_S)

    async def _write_markers(self, prepared: TxnMetadata, partitions: set[TopicPartition]) -> set[TopicPartition]:
        """The partitions whose marker is not written yet after one attempt at each."""
        state_partition = self._state_partition(prepared.transactional_id)
        if state_partition is None:
            return partitions
        coordinator_epoch = state_partition.leader_epoch
        by_leader: dict[int, list[TopicPartition]] = {}
        view = self._broker.view()
        for key in partitions:
            if key[0] not in view.topics:
                continue  # deleted since it joined the transaction: nothing left to mark
            state = view.states.get(key)
            if state is not None and state.leader >= 0:
                by_leader.setdefault(state.leader, []).append(key)
        me = self._broker.config.broker_id
        attempts: list[Awaitable[set[TopicPartition]]] = [
            self._write_local_markers(prepared, keys, coordinator_epoch) if leader == me
            else self._send_markers(leader, prepared, keys, coordinator_epoch)
            for leader, keys in by_leader.items()
        ]
        written = set().union(*await asyncio.gather(*attempts)) if attempts else set()
        return {key for key in partitions if key[0] in view.topics} - written

    async def _write_local_markers(self, prepared: TxnMetadata, keys: list[TopicPartition],
                                   coordinator_epoch: int) -> set[TopicPartition]:
        commit = prepared.state == TxnState.PREPARE_COMMIT
        outcomes = await asyncio.gather(*(
            self.write_marker(key, prepared.producer_id, prepared.producer_epoch, commit, coordinator_epoch)
            for key in keys))
        return {key for key, error in zip(keys, outcomes) if error is ErrorCode.NONE}

    async def _send_markers(self, leader: int, prepared: TxnMetadata, keys: list[TopicPartition],
                            coordinator_epoch: int) -> set[TopicPartition]:
        address = self._broker.membership.address_of(leader) if self._broker.membership is not None else None
        if address is None:
            return set()
        peer = self._peers.get(leader)
        if peer is None or (peer.host, peer.port) != address:
            peer = self._peers[leader] = PeerConnection(*address, self._broker.config.replica_fetch_response_max_bytes)
        by_topic: dict[str, list[int]] = {}
        for topic, index in keys:
            by_topic.setdefault(topic, []).append(index)
        request = WriteTxnMarkersRequest(markers=[WritableTxnMarker(
            producer_id=prepared.producer_id, producer_epoch=prepared.producer_epoch,
            transaction_result=prepared.state == TxnState.PREPARE_COMMIT, coordinator_epoch=coordinator_epoch,
            topics=[WritableTxnMarkerTopic(name=topic, partition_indexes=indexes) for topic, indexes in by_topic.items()],
        )])
        try:
            response = await peer.call(WRITE_TXN_MARKERS, 0, request, self._broker.config.replica_socket_timeout_ms / 1000)
        except PeerError as error:
            _log.info("transaction markers to broker %d not written yet: %s", leader, error)
            return set()
        return {(topic.name, p.partition_index) for marker in response.markers for topic in marker.topics
                for p in topic.partitions if p.error_code == ErrorCode.NONE}

    async def write_marker(self, key: TopicPartition, producer_id: int, producer_epoch: int, commit: bool,
                           coordinator_epoch: int) -> ErrorCode:
        """Appends one marker as the partition's leader (acks=all); committed offsets of the transaction in
        a __consumer_offsets partition become visible once it is written."""
        partition = self._broker.topics.partition(*key)
        if partition is None or partition.replica.role != Role.LEADER:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        batch = marker_batch(producer_id, producer_epoch, commit, coordinator_epoch, self._broker.clock())
        error = await self._append(partition, batch)
        if error is ErrorCode.NONE:
            self._broker.transaction_ended_in(partition, producer_id, commit)
        return error

    # --- timeouts and failover ------------------------------------------------------------------------

    async def abort_timed_out(self) -> None:
        for txn in self.coordinator.timed_out(self._broker.clock()):
            _log.info("aborting transaction of %r: open for more than %d ms", txn.transactional_id, txn.timeout_ms)
            await self.carry_out(Decision(ErrorCode.NONE, self.coordinator.fenced_abort(txn, self._broker.clock())))

    def leadership_changed(self, partition: Partition, leads: bool) -> None:
        """Leading a __transaction_state partition loads its ids and finishes their decided transactions."""
        info = self._broker.view().topics.get(TRANSACTION_STATE_TOPIC)
        count = len(info.assignment) if info is not None else 0
        self.coordinator.unload(lambda txn_id: count > 0 and partition_for_group(txn_id, count) == partition.index)
        if not leads:
            return
        for batch, _ in partition.batches():
            for record in decode_records(batch):
                try:
                    transactional_id = decode_key(record.key or b"")
                    metadata = None if record.value is None else decode_value(transactional_id, record.value)
                except InternalRecordError as error:
                    _log.warning("%s offset %d: skipped unreadable record: %s", partition.name, record.offset, error)
                    continue
                self.coordinator.replay(transactional_id, metadata)
        for prepared in self.coordinator.prepared():
            if self.state_partition_index(prepared.transactional_id) == partition.index:
                _log.info("finishing the %s of %r's transaction, decided by the previous coordinator",
                          "commit" if prepared.state == TxnState.PREPARE_COMMIT else "abort", prepared.transactional_id)
                self._complete_in_background(prepared)

    async def close(self) -> None:
        for task in self._completions:
            task.cancel()
        await asyncio.gather(*self._completions, return_exceptions=True)
        for peer in self._peers.values():
            peer.close()
