"""The asyncio runtime of every partition replica on this broker (Kafka's ReplicaManager).

Each partition's `PartitionReplica` decides, and its `ReplicaDriver` (replica_driver.py, which
the simulator runs too) applies the log changes it asks for. This does the I/O left over:
produce answers to the waiting requests, fetches and epoch queries to the leader's fetcher
(replica_fetchers.py), ISR changes to the keeper, and `tick` every 100 ms.

How a broker learns to lead or follow: keeper watches, not Kafka's LeaderAndIsr request.
Every broker watches the partition state znodes through its ClusterView, and
PartitionStateFollower turns each change to a partition it replicates into `apply_state`.
The state znode is the one record of leadership either way; watching it spares the controller
a request per broker and cannot deliver an older state after a newer one (the core ignores
states it has passed). A broker alone is a cluster of one whose states it makes itself.

The cores' `now` is the broker's monotonic clock: ISR lag (replica.lag.time.max.ms), acks=all
timeouts and fetch backoffs are durations, which a step of the wall clock must not change.

ISR changes (AlterIsr) are conditional keeper writes made on ONE worker thread, so this
broker's writes reach the keeper in the order the cores asked for them; the stored state
goes back to the core, and an unknown outcome goes back as nothing (the core asks again).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Sequence

from cluster.broker.config import BrokerConfig
from cluster.broker.log.clock import Clock
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.partition import Partition
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replica_fetchers import AddressOf, ReplicaFetchers
from cluster.broker.replication import (
    Action,
    AlterIsr,
    CompleteProduce,
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchAnswer,
    FetchRequest,
    FetchResponse,
    Role,
    SendEpochEndOffset,
    SendFetch,
)

TICK_SECONDS = 0.1

TopicPartition = tuple[str, int]
IsrWriter = Callable[[str, int, PartitionState, "tuple[int, ...]"], "PartitionState | None"]
"""ClusterMember.alter_isr: the state stored after the conditional write, or None when not known."""

_log = logging.getLogger(__name__)


class ReplicaManager:
    def __init__(
        self,
        config: BrokerConfig,
        monotonic: Clock,
        address_of: AddressOf,
        on_high_watermark: Callable[[], None],
        on_leadership: Callable[[Partition, bool], None],
    ) -> None:
        self._clock = monotonic
        self._on_high_watermark = on_high_watermark
        self._on_leadership = on_leadership
        self._partitions: dict[TopicPartition, Partition] = {}
        self._replicas: dict[TopicPartition, tuple[int, ...]] = {}
        self._produces: dict[int, tuple[TopicPartition, asyncio.Future[CompleteProduce]]] = {}
        self._request_ids = itertools.count()
        self._told: dict[tuple[TopicPartition, int], int] = {}
        self._isr_writer: IsrWriter | None = None
        self._isr_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"isr-writer-{config.broker_id}")
        self.fetchers = ReplicaFetchers(config, address_of, self)
        self._ticker: asyncio.Task[None] | None = None

    def start(self, isr_writer: IsrWriter | None) -> None:
        """`isr_writer` is None for a broker alone: with no followers, its cores never change an ISR."""
        self._isr_writer = isr_writer
        self._ticker = asyncio.create_task(self._tick_forever(), name="replica-ticks")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        await self.fetchers.close()
        self._isr_thread.shutdown(wait=False, cancel_futures=True)
        for key in list(self._partitions):
            self.remove(key)

    # --- the controller's states --------------------------------------------------------------------

    def apply_state(self, partition: Partition, state: PartitionState, replicas: Sequence[int]) -> None:
        self._partitions[partition.key] = partition
        self._replicas[partition.key] = tuple(replicas)
        epoch = partition.leader_epoch
        self._changing_role(partition, lambda: partition.replica.apply_state(state, replicas, self._clock()))
        if partition.leader_epoch != epoch and len(replicas) > 1:  # a replica alone has nothing to report
            _log.info("%s: %s at leader epoch %d (leader %d, ISR %s), log end %d, HW %d", partition.name,
                      partition.replica.role.value, state.leader_epoch, state.leader, list(state.isr),
                      partition.log.log_end_offset, partition.high_watermark)

    def remove(self, key: TopicPartition) -> None:
        """The partition is no longer replicated here: waiting produce requests learn it."""
        partition = self._partitions.pop(key, None)
        self._replicas.pop(key, None)
        for told in [told for told in self._told if told[0] == key]:
            del self._told[told]
        for request_id, (waiting_key, future) in list(self._produces.items()):
            if waiting_key == key:
                del self._produces[request_id]
                if not future.done():
                    future.set_result(CompleteProduce(request_id, ErrorCode.NOT_LEADER_OR_FOLLOWER))
        if partition is not None and partition.replica.role == Role.LEADER:
            self._on_leadership(partition, False)

    def _changing_role(self, partition: Partition, event: Callable[[], list[Action]]) -> None:
        was_leader = partition.replica.role == Role.LEADER
        self._carry_out(partition, event())
        leads = partition.replica.role == Role.LEADER
        if leads != was_leader:
            self._on_leadership(partition, leads)

    # --- leader side ----------------------------------------------------------------------------------

    def produce(self, partition: Partition, records: Any, acks: int, timeout_ms: int) -> asyncio.Future[CompleteProduce]:
        """Appends as leader if the core admits it; the future holds the answer (acks=all: once committed).

        Raises what Partition.append_as_leader raises when the log refuses the batch: nothing was appended.
        """
        request_id = next(self._request_ids)
        future: asyncio.Future[CompleteProduce] = asyncio.get_running_loop().create_future()
        self._produces[request_id] = (partition.key, future)
        try:
            actions = partition.driver.produce(request_id, records, acks, timeout_ms, self._clock())
        except BaseException:
            del self._produces[request_id]
            raise
        self._perform(partition, actions)
        return future

    def follower_fetch(self, partition: Partition, replica_id: int, fetch_offset: int, epoch: int) -> FetchAnswer:
        answer, actions = partition.replica.fetch(FetchRequest(replica_id, fetch_offset, epoch, 0), self._clock())
        self._carry_out(partition, actions)
        return answer

    def told_high_watermark(self, partition: Partition, replica_id: int) -> bool:
        """Notes that `replica_id` is being told the partition's HW; True when that is news to it."""
        key = (partition.key, replica_id)
        high_watermark = partition.high_watermark
        news = self._told.get(key) != high_watermark
        self._told[key] = high_watermark
        return news

    def epoch_end_offset(self, partition: Partition, replica_id: int, epoch: int, current_epoch: int) -> EpochEndOffsetResponse:
        """-1 as the current epoch (a client that does not track epochs) skips the fencing check, as in Kafka."""
        current = partition.replica.leader_epoch if current_epoch < 0 else current_epoch
        return partition.replica.epoch_end_offset(EpochEndOffsetRequest(replica_id, epoch, current, 0))

    # --- follower side (FetcherListener) --------------------------------------------------------------

    def on_fetch_response(self, key: TopicPartition, response: FetchResponse) -> None:
        partition = self._partitions.get(key)
        if partition is not None:
            self._carry_out(partition, partition.replica.on_fetch_response(response, self._clock()))

    def on_epoch_end_offset(self, key: TopicPartition, response: EpochEndOffsetResponse) -> None:
        partition = self._partitions.get(key)
        if partition is not None:
            self._carry_out(partition, partition.replica.on_epoch_end_offset(response, self._clock()))

    def log_start_offset(self, key: TopicPartition) -> int:
        partition = self._partitions.get(key)
        return partition.log.log_start_offset if partition is not None else -1

    # --- carrying out actions ---------------------------------------------------------------------------

    def _carry_out(self, partition: Partition, actions: Iterable[Action]) -> None:
        """The partition's driver applies the log changes among `actions`; a moved HW wakes waiting fetches."""
        high_watermark = partition.high_watermark
        self._perform(partition, partition.driver.run(actions, self._clock()))
        if partition.high_watermark != high_watermark:
            self._on_high_watermark()

    def _perform(self, partition: Partition, actions: Iterable[Action]) -> None:
        """The I/O the core asks for once its driver has changed the log."""
        for action in actions:
            if isinstance(action, CompleteProduce):
                self._complete(action)
            elif isinstance(action, SendFetch):
                self.fetchers.fetch(action.leader, partition.key, action.request)
            elif isinstance(action, SendEpochEndOffset):
                self.fetchers.ask_epoch_end(action.leader, partition.key, action.request)
            elif isinstance(action, AlterIsr):
                self._write_isr(partition, action)

    def _complete(self, completion: CompleteProduce) -> None:
        waiting = self._produces.pop(completion.request_id, None)  # type: ignore[call-overload]
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(completion)

    def _write_isr(self, partition: Partition, change: AlterIsr) -> None:
        state = partition.replica.state
        if self._isr_writer is None or state is None or state.version != change.expected_version:
            return
        loop = asyncio.get_running_loop()
        written = loop.run_in_executor(self._isr_thread, self._isr_writer, partition.topic, partition.index, state,
                                       change.isr)
        written.add_done_callback(lambda done: self._isr_written(partition, change, done))

    def _isr_written(self, partition: Partition, change: AlterIsr, done: asyncio.Future[PartitionState | None]) -> None:
        if done.cancelled() or self._partitions.get(partition.key) is not partition:
            return
        error = done.exception()
        if error is not None:
            _log.warning("%s: ISR change to %s refused: %s", partition.name, list(change.isr), error)
            return
        stored = done.result()
        if stored is not None:
            before = partition.replica.state
            if before is None or before.isr != stored.isr:
                _log.info("%s: ISR changed from %s to %s", partition.name, list(before.isr) if before else [],
                          list(stored.isr))
            replicas = self._replicas[partition.key]
            self._changing_role(
                partition, lambda: partition.replica.isr_update_result(change, stored, replicas, self._clock())
            )

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self._clock()
            for partition in list(self._partitions.values()):
                try:
                    self._carry_out(partition, partition.replica.tick(now))
                except Exception:
                    _log.exception("%s: replication tick failed; the next one tries again", partition.name)
