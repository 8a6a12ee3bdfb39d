"""A broker's state and housekeeping: partitions and their replication, groups and offsets, producer ids, timers.

Request handlers (cluster/broker/handlers/) read and change this state; the
server (cluster/broker/server.py) owns connections. Everything here runs on
one asyncio loop, so no state needs a lock.

With zookeeper.connect set the broker is a cluster member: the keeper's partition states
(through Membership) say which partitions it holds and whether it leads or follows them, and
Metadata answers from the cluster's view. Without it, the broker is a cluster of one: it
creates its topics itself and makes each partition's state locally (it leads them all, its
ISR is itself), and everything else runs the same code.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable, Iterable, Mapping

from cluster.broker.config import MAX_BROKER_ID, BrokerConfig
from cluster.broker.controller.view import ClusterView, TopicInfo
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.groups.coordinator import GroupConfig, GroupCoordinator, Reply
from cluster.broker.groups.offsets import (
    OFFSETS_TOPIC,
    CommittedOffset,
    OffsetRecordError,
    TopicPartition,
    encode_key,
    encode_value,
    partition_for_group,
)
from cluster.broker.log.clock import Clock, monotonic_ms, wall_clock_ms
from cluster.broker.log.config import UNLIMITED
from cluster.broker.log.errors import StorageError
from cluster.broker.log_dir_failure import LogDirFailure
from cluster.broker.membership import Membership
from cluster.broker.meta_properties import load_cluster_id
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.partition import Partition
from cluster.broker.producer_ids import ProducerIdAllocator
from cluster.broker.producer_state import SequenceError
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.records import Record, build_batch, decode_records
from cluster.broker.replica_manager import ReplicaManager
from cluster.broker.replication import CompleteProduce, Role
from cluster.broker.topics import TopicError, TopicRegistry, topic_shape, validate_name, validated_configs
from cluster.broker.transactions.markers import is_commit
from cluster.broker.transaction_service import TransactionService
from cluster.broker.transactions.state_records import TRANSACTION_STATE_TOPIC

GROUP_TICK_SECONDS = 0.1
ACKS_ALL = -1
OFFSETS_TOPIC_MIN_ISR = 2
INTERNAL_SEGMENT_BYTES = 100 * 1024 * 1024
_COMMIT_ERRORS = {
    # Kafka's GroupMetadataManager: what a failed append to __consumer_offsets tells the committer
    ErrorCode.NOT_ENOUGH_REPLICAS: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.REQUEST_TIMED_OUT: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_LEADER_OR_FOLLOWER: ErrorCode.NOT_COORDINATOR,
}

_log = logging.getLogger(__name__)


class Broker:
    def __init__(self, config: BrokerConfig, clock: Clock = wall_clock_ms, halt: Callable[[int], object] = os._exit,
                 monotonic: Clock = monotonic_ms) -> None:
        """`halt` ends the process when the log dir fails (log_dir_failure.py). `clock` is the wall
        clock of the logs and record timestamps, `monotonic` the clock of every timeout (log/clock.py)."""
        self.config = config
        self.clock = clock
        self.monotonic = monotonic
        self.log_dir_failure = LogDirFailure(config.log_dir, halt)
        self.topics = TopicRegistry(config, clock, self.log_dir_failure)
        self.groups = GroupCoordinator(GroupConfig(
            min_session_timeout_ms=config.group_min_session_timeout_ms,
            max_session_timeout_ms=config.group_max_session_timeout_ms,
            initial_rebalance_delay_ms=config.group_initial_rebalance_delay_ms,
        ))
        self.membership = Membership(config) if config.clustered else None
        self.replicas = ReplicaManager(config, monotonic, self._address_of, self.data_appended, self._leadership_changed)
        self.transactions = TransactionService(self)
        self.cluster_id = ""
        self._producer_ids: ProducerIdAllocator | None = None
        self._data_arrived: asyncio.Future[None] | None = None
        self._housekeeping: list[asyncio.Task[None]] = []
        self._internal_topic_creations: dict[str, asyncio.Future[None]] = {}
        self._own_view: ClusterView | None = None

    def load(self) -> None:
        """Reads meta.properties; a broker alone also opens (recovering if needed) and leads its logs."""
        self.cluster_id = load_cluster_id(self.config.log_dir, self.config.broker_id)
        highest = -1
        if self.membership is None:
            self.topics.load()
            for topic in self.topics.topics():
                self._lead_alone(topic.partitions.values())
            highest = max((p.producers.highest_producer_id() for p in self.topics.partitions()), default=-1)
        self._producer_ids = ProducerIdAllocator(self.config.log_dir, at_least=highest + 1)
        _log.info("broker %d loaded %d topic(s) from %s", self.config.broker_id, len(self.topics.topics()),
                  self.config.log_dir)

    async def start(self) -> None:
        """Starts replication and, for a cluster member, joins the cluster (it then learns its partitions)."""
        self.replicas.start(self.membership.alter_isr if self.membership is not None else None)
        if self.membership is not None:
            self.cluster_id = await self.membership.start(self.on_partition_state, self.cluster_id)
            view = self.membership.view
            self.topics.remove_unassigned({
                (topic, index) for topic, info in view.topics.items()
                for index, replicas in info.assignment.items() if self.config.broker_id in replicas
            })

    async def leave(self) -> None:
        """A cluster member's controlled shutdown: its leaderships move away while it still serves."""
        if self.membership is not None:
            await self.membership.stop()

    def start_housekeeping(self) -> None:
        self._housekeeping = [
            asyncio.create_task(self._run_group_timers(), name="group-timers"),
            asyncio.create_task(self._run_periodically(self._apply_retention, self.config.retention_check_interval_ms),
                                name="retention"),
            asyncio.create_task(self._run_periodically(self._flush_due_logs, 1_000), name="flush"),
            asyncio.create_task(self._run_periodically(self.transactions.abort_timed_out,
                                                       self.config.transaction_abort_interval_ms),
                                name="transaction-timeouts"),
        ]

    async def close(self) -> None:
        for task in self._housekeeping:
            task.cancel()
        await asyncio.gather(*self._housekeeping, return_exceptions=True)
        await self.transactions.close()
        await self.replicas.close()
        self.topics.close()
        _log.info("broker %d closed its logs", self.config.broker_id)

    def elapsed_ms(self) -> int:
        """Group timers' time: session timeouts and rebalance delays, on the monotonic clock."""
        return self.monotonic()

    def allocate_producer_id(self) -> int:
        """Unique in the cluster too: members interleave their ids by broker id. A full disk that
        keeps the next block from being reserved raises LogDirFullError."""
        assert self._producer_ids is not None, "load() first"
        with self.log_dir_failure.guarding("reserving producer ids", self.config.log_dir):
            local = self._producer_ids.allocate()
        if self.membership is None:
            return local
        return local * (MAX_BROKER_ID + 1) + self.config.broker_id

    def data_appended(self) -> None:
        """Wakes every long-polling fetch (after appends, and when a high watermark moves)."""
        if self._data_arrived is not None and not self._data_arrived.done():
            self._data_arrived.set_result(None)
        self._data_arrived = None

    async def wait_for_data(self, timeout_s: float) -> None:
        if self._data_arrived is None:
            self._data_arrived = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._data_arrived), timeout_s)
        except asyncio.TimeoutError:
            pass

    def deliver(self, replies: Iterable[Reply]) -> None:
        """Group replies carry the waiting request's future as their token."""
        for future, response in replies:
            assert isinstance(future, asyncio.Future)
            if not future.done():
                future.set_result(response)

    # --- the cluster as this broker sees it -----------------------------------------------------------

    def view(self) -> ClusterView:
        """The cluster's view, or for a broker alone the same picture of itself (kept until its topics change)."""
        if self.membership is not None:
            return self.membership.view
        if self._own_view is None:
            me = self.config.broker_id
            self._own_view = ClusterView(
                brokers={me: BrokerRegistration(me, self.config.listeners.registered())},
                topics={topic.name: TopicInfo({index: (me,) for index in topic.partitions}, topic.configs)
                        for topic in self.topics.topics()},
                states={p.key: p.replica.state for p in self.topics.partitions() if p.replica.state is not None},
                controller=me,
            )
        return self._own_view

    def missing_partition_error(self, topic: str, index: int) -> ErrorCode:
        """What a request for a partition this broker does not hold is told (Kafka's rule)."""
        if self.view().replicas(topic, index):
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION

    def may_soon_lead(self, topic: str, index: int, epoch: int) -> bool:
        """A follower names leader epoch `epoch`, which this broker has not taken up yet, and may yet lead.

        Both learn states from keeper watches, possibly through different keeper servers, so the
        follower may simply have heard first: either this broker's view shows it leading at that
        epoch but the state is not applied yet, or its view has not reached that epoch at all.
        """
        partition = self.topics.partition(topic, index)
        if partition is not None and partition.leader_epoch >= epoch:
            return False
        state = self.view().states.get((topic, index))
        return state is None or state.leader_epoch < epoch or state.leader == self.config.broker_id

    def on_partition_state(self, topic: str, index: int, state: PartitionState | None) -> None:
        """The controller's state of a partition this broker replicates; None: it holds it no more."""
        if state is None:
            self.replicas.remove((topic, index))
            self.topics.drop_partition(topic, index)
            return
        view = self.view()
        info = view.topics.get(topic)
        try:
            partition = self.topics.open_partition(topic, index, info.configs if info is not None else {})
        except Exception:
            _log.exception("cannot open %s-%d; it stays unreplicated here", topic, index)
            return
        self.replicas.apply_state(partition, state, view.replicas(topic, index))
        self.data_appended()  # fetches from followers that heard of this state first are waiting for it

    def _address_of(self, broker_id: int) -> tuple[str, int] | None:
        return self.membership.address_of(broker_id) if self.membership is not None else None

    def _lead_alone(self, partitions: Iterable[Partition]) -> None:
        me = self.config.broker_id
        state = PartitionState(leader=me, leader_epoch=0, isr=(me,), controller_epoch=0, version=0)
        for partition in partitions:
            self.replicas.apply_state(partition, state, (me,))
        self._own_view = None

    # --- topics -----------------------------------------------------------------------------------------

    async def create_topic(self, name: str, partitions: int = -1, replication_factor: int = -1,
                           configs: Mapping[str, str | None] | None = None, validate_only: bool = False,
                           leaders_within_ms: int = 0) -> None:
        """Creates a topic (-1: the broker's defaults); TopicError says why not.

        A broker alone leads a topic as soon as it exists; in a cluster, `leaders_within_ms` > 0
        waits that long for the controller to elect the leaders (Membership.create_topic)."""
        if self.membership is None:
            topic = self.topics.create(name, partitions, replication_factor, configs, validate_only)
            if topic is not None:
                self._lead_alone(topic.partitions.values())
            return
        validate_name(name)
        if name in self.view().topics:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {name!r} already exists")
        partitions, replication_factor = topic_shape(self.config, partitions, replication_factor,
                                                     len(self.view().live))
        topic_configs = validated_configs(self.config, configs or {})
        if not validate_only:
            await self.membership.create_topic(name, partitions, replication_factor, topic_configs, leaders_within_ms)

    async def delete_topic(self, name: str) -> None:
        if self.membership is None:
            topic = self.topics.get(name)
            for index in topic.partitions if topic is not None else ():
                self.replicas.remove((name, index))
            self.topics.delete(name)
            self._own_view = None
        else:
            await self.membership.delete_topic(name)
        self.groups.offsets.delete_topic(name)

    # --- group coordination follows the leadership of __consumer_offsets ------------------------------

    async def find_coordinator(self, group_id: str) -> BrokerRegistration | None:
        """The broker leading the group's __consumer_offsets partition, creating the topic on first use."""
        view = self.view()
        if OFFSETS_TOPIC not in view.topics:
            await self.ensure_internal_topic(OFFSETS_TOPIC, self.config.offsets_topic_partitions,
                                             self.config.offsets_topic_replication_factor, OFFSETS_TOPIC_MIN_ISR)
            view = self.view()
        info = view.topics.get(OFFSETS_TOPIC)
        if info is None:
            return None
        state = view.states.get((OFFSETS_TOPIC, partition_for_group(group_id, len(info.assignment))))
        return view.brokers.get(state.leader) if state is not None else None

    def coordinates(self, group_id: str) -> bool:
        """Whether this broker leads the group's offsets partition (else group requests get NOT_COORDINATOR)."""
        partition = self._offsets_partition(group_id)
        return partition is not None and partition.replica.role == Role.LEADER

    def commit_offsets(
        self, group_id: str, offsets: dict[TopicPartition, CommittedOffset], producer: tuple[int, int] | None = None,
    ) -> asyncio.Future[CompleteProduce] | ErrorCode:
        """Appends the commits to __consumer_offsets (acks=all); they become visible once committed there.

        A transactional producer's (`producer`: its id and epoch) are a transactional batch, and
        become visible once its transaction's commit marker is written there (transaction_ended_in).

        Returns the error at once when nothing could be appended, else the append's future, whose
        outcome (mapped by commit_error) the OffsetCommit answer reports.
        """
        partition = self._offsets_partition(group_id)
        if partition is None or partition.replica.role != Role.LEADER:
            return ErrorCode.NOT_COORDINATOR
        now = self.clock()
        records = [
            Record(offset=i, timestamp=now, key=encode_key(group_id, topic, index), value=encode_value(committed))
            for i, ((topic, index), committed) in enumerate(offsets.items())
        ]
        try:
            batch = build_batch(records) if producer is None else build_batch(
                records, producer_id=producer[0], producer_epoch=producer[1], transactional=True)
            appended = self.replicas.produce(partition, batch, ACKS_ALL, self.config.offsets_commit_timeout_ms)
        except StorageError as error:
            _log.warning("%s: could not append offset commits: %s", partition.name, error)
            return ErrorCode.NOT_COORDINATOR  # Kafka's answer to a commit its log could not store
        except SequenceError as error:
            return error.code  # a fenced transactional producer
        except Exception as error:
            _log.error("%s: could not append offset commits: %s", partition.name, error)
            return ErrorCode.UNKNOWN_SERVER_ERROR
        self.data_appended()

        def publish(done: asyncio.Future[CompleteProduce]) -> None:
            if done.result().error is not ErrorCode.NONE:
                return
            if producer is None:
                self.groups.offsets.commit(group_id, offsets)
            else:
                self.groups.offsets.stage(producer[0], group_id, offsets)

        if appended.done():
            publish(appended)
        else:
            appended.add_done_callback(publish)
        return appended

    @staticmethod
    def commit_error(append_error: ErrorCode) -> ErrorCode:
        """What a coordinator's client is told of a failed append to its internal topic (Kafka's mapping)."""
        return _COMMIT_ERRORS.get(append_error, append_error)

    def _offsets_partition(self, group_id: str) -> Partition | None:
        info = self.view().topics.get(OFFSETS_TOPIC)
        if info is None or not info.assignment:
            return None
        return self.topics.partition(OFFSETS_TOPIC, partition_for_group(group_id, len(info.assignment)))

    async def ensure_internal_topic(self, name: str, partitions: int, replication_factor: int,
                                    min_insync_replicas: int) -> None:
        """Creates __consumer_offsets or __transaction_state on first use: one creation at a time however
        many requests ask. Kafka compacts them, so no time retention (nor a clock stepped past it)
        deletes what they hold. Fewer live brokers than the replication factor make it smaller."""
        creation = self._internal_topic_creations.get(name)
        if creation is None or creation.done():
            creation = self._internal_topic_creations[name] = asyncio.ensure_future(
                self._create_internal_topic(name, partitions, replication_factor, min_insync_replicas))
        await asyncio.shield(creation)

    async def _create_internal_topic(self, name: str, partitions: int, wanted: int, min_insync_replicas: int) -> None:
        replication = min(wanted, len(self.view().live))
        if replication < wanted:
            _log.info("creating %s with replication factor %d: only %d broker(s) are live (wanted %d)",
                      name, replication, replication, wanted)
        configs = {"segment.bytes": str(INTERNAL_SEGMENT_BYTES), "retention.ms": str(UNLIMITED),
                   "min.insync.replicas": str(min(min_insync_replicas, replication))}
        try:
            await self.create_topic(name, partitions, replication, configs)
        except TopicError as error:
            if error.code != ErrorCode.TOPIC_ALREADY_EXISTS:
                _log.warning("could not create %s: %s", name, error)

    def transaction_ended_in(self, partition: Partition, producer_id: int, commit: bool) -> None:
        """A marker was written: a committed transaction's offsets in an offsets partition become visible."""
        if partition.topic == OFFSETS_TOPIC:
            self.groups.offsets.end_transaction(producer_id, commit)

    def _leadership_changed(self, partition: Partition, leads: bool) -> None:
        """Leading an offsets partition loads its groups' commits; losing it unloads those groups.
        The same for a transaction state partition and its transactional ids."""
        if partition.topic == TRANSACTION_STATE_TOPIC:
            self.transactions.leadership_changed(partition, leads)
        if partition.topic != OFFSETS_TOPIC:
            return
        count = len(self.view().topics[OFFSETS_TOPIC].assignment) if OFFSETS_TOPIC in self.view().topics else 0

        def owned(group_id: str) -> bool:
            return count > 0 and partition_for_group(group_id, count) == partition.index

        self.deliver(self.groups.unload(owned))
        if leads:
            self._replay_offsets(partition)

    def _replay_offsets(self, partition: Partition) -> None:
        for batch, header in partition.batches():
            if header.is_control:
                self.groups.offsets.end_transaction(header.producer_id, is_commit(batch))
                continue
            producer_id = header.producer_id if header.is_transactional else None
            for record in decode_records(batch):
                try:
                    self.groups.offsets.replay(record.key, record.value, producer_id)
                except OffsetRecordError as error:
                    _log.warning("%s offset %d: skipped unreadable commit: %s", partition.name, record.offset, error)

    async def _run_group_timers(self) -> None:
        while True:
            now = self.elapsed_ms()
            deadline = self.groups.next_deadline_ms()
            wait = GROUP_TICK_SECONDS if deadline is None else min(max(deadline - now, 0) / 1000, GROUP_TICK_SECONDS)
            await asyncio.sleep(wait)
            self.deliver(self.groups.tick(self.elapsed_ms()))

    async def _run_periodically(self, action: Any, interval_ms: int) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                done = action()
                if asyncio.iscoroutine(done):
                    await done
            except Exception:
                _log.exception("housekeeping step %s failed; it will run again", action.__name__)

    def _apply_retention(self) -> None:
        for partition in self.topics.partitions():
            for deleted in partition.log.apply_retention(partition.high_watermark):
                _log.info("%s: retention deleted %s", partition.name, deleted)
            partition.transactions.forget_below(partition.log.log_start_offset)

    def _flush_due_logs(self) -> None:
        for partition in self.topics.partitions():
            partition.log.maybe_flush()

