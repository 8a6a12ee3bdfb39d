"""The asyncio driver of every partition replica's core on this broker (Kafka's ReplicaManager).

Each partition's `PartitionReplica` decides; this carries out its actions as
cluster/sim/replication_driver.py does in the simulator: log changes on the partition (then
reported back), produce answers to the waiting requests, fetches and epoch queries to the
leader's fetcher (fetcher.py), ISR changes to the keeper, and `tick` every 100 ms.

How a broker learns to lead or follow: keeper watches, not Kafka's LeaderAndIsr request.
Every broker watches the partition state znodes through its ClusterView, and
PartitionStateFollower turns each change to a partition it replicates into `apply_state`.
The state znode is the one record of leadership either way; watching it spares the controller
a request per broker and cannot deliver an older state after a newer one (the core ignores
states it has passed). A broker alone is a cluster of one whose states it makes itself.

ISR changes (AlterIsr) are conditional keeper writes made on ONE worker thread, so this
broker's writes reach the keeper in the order the cores asked for them; the stored state
goes back to the core, and an unknown outcome goes back as nothing (the core asks again).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Sequence

from cluster.broker.config import BrokerConfig
from cluster.broker.fetcher import AddressOf, ReplicaFetchers
from cluster.broker.log.partition_log import Clock
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.partition import Partition
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    Action,
    AdvanceLogStart,
    AlterIsr,
    AppendAsFollower,
    AppendAsLeader,
    CompleteProduce,
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchAnswer,
    FetchRequest,
    FetchResponse,
    Role,
    SendEpochEndOffset,
    SendFetch,
    TruncateFullyAndStartAt,
    TruncateTo,
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
        clock: Clock,
        address_of: AddressOf,
        on_high_watermark: Callable[[], None],
        on_leadership: Callable[[Partition, bool], None],
    ) -> None:
        self._clock = clock
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

        Raises what Partition.append raises when the log refuses the batch: nothing was appended.
        """
        request_id = next(self._request_ids)
        future: asyncio.Future[CompleteProduce] = asyncio.get_running_loop().create_future()
        self._produces[request_id] = (partition.key, future)
        actions = partition.replica.produce(request_id, acks, timeout_ms)
        try:
            if actions and isinstance(actions[-1], AppendAsLeader):
                append = actions.pop()
                result = partition.append(records, append.leader_epoch)
                actions += partition.replica.appended_as_leader(
                    append, result.base_offset, result.last_offset, self._clock()
                )
        except BaseException:
            del self._produces[request_id]
            raise
        self._carry_out(partition, actions)
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
        high_watermark = partition.high_watermark
        pending = deque(actions)
        while pending:
            action = pending.popleft()
            if isinstance(action, CompleteProduce):
                self._complete(action)
            elif isinstance(action, SendFetch):
                self.fetchers.fetch(action.leader, partition.key, action.request)
            elif isinstance(action, SendEpochEndOffset):
                self.fetchers.ask_epoch_end(action.leader, partition.key, action.request)
            elif isinstance(action, AlterIsr):
                self._write_isr(partition, action)
            elif isinstance(action, AdvanceLogStart):
                partition.log.advance_log_start(action.offset)
            elif self._change_log(partition, action):
                pending.extend(partition.replica.log_changed(self._clock()))
        if partition.high_watermark != high_watermark:
            self._on_high_watermark()

    @staticmethod
    def _change_log(partition: Partition, action: Action) -> bool:
        """Applies a follower's log change; False when the log refused it (the core fetches again)."""
        try:
            if isinstance(action, AppendAsFollower):
                partition.append_as_follower(action.records)
            elif isinstance(action, TruncateTo):
                partition.truncate_to(action.offset)
            elif isinstance(action, TruncateFullyAndStartAt):
                partition.truncate_fully_and_start_at(action.offset)
            else:
                raise AssertionError(f"{partition.name}: unexpected action {action!r}")
        except Exception:
            _log.exception("%s: could not apply %s; fetching again", partition.name, type(action).__name__)
            return False
        return True

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
