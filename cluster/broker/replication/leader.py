"""One leader epoch's tenure: followers' progress, the ISR, the high watermark, waiting acks=all writes.

Rules (Kafka's `Partition` and `Replica`, Kafka 3.7+):
- A follower's fetch offset is its log end. Its last caught-up time is the fetch time when it
  fetched at the leader's log end, else the previous fetch time when it fetched at least the
  leader's log end as of that previous fetch.
- HW = min log end over the ISR plus pending additions (KIP-497's maximal ISR), never going
  back, computed on becoming leader too (an ISR of the leader alone commits its whole log, so a
  restarted sole replica serves what it holds without waiting for a write), and not moving at all while the committed ISR is below the effective min ISR
  (min(min.insync.replicas, replicas)). Followers' log ends are unknown until they fetch in
  this epoch, so a new leader cannot count positions from an older epoch.
- Shrink: ISR members not caught up within replica.lag.time.max.ms leave. Expand: a follower
  whose log end is >= HW and >= this epoch's start offset joins. Both are conditional keeper
  writes, one at a time; the ISR changes only when the keeper's answer says so. An unanswered
  write is sent again, never given up: the keeper may have applied it, and until we know, a
  joining follower must keep counting for the HW. An answer holding the state we already knew
  means the write was refused (the keeper must take one leader's writes in order, as a
  ZooKeeper session does), and the proposal is dropped.
- acks=all: NOT_ENOUGH_REPLICAS before appending when the ISR is below the min ISR; otherwise
  wait until HW passes the batch; NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR falls below the
  min ISR while waiting (the batch is in the log and may still commit); REQUEST_TIMED_OUT after
  the request's timeout; NOT_LEADER_OR_FOLLOWER when leadership ends first.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication.actions import Action, AlterIsr, CompleteProduce
from cluster.broker.replication.config import ReplicationConfig
from cluster.broker.replication.log_positions import UNDEFINED_EPOCH, LogPositions
from cluster.broker.replication.messages import FetchAnswer, FetchRequest

ACKS_ALL = -1


@dataclass(slots=True)
class FollowerProgress:
    log_end: int | None = None
    last_caught_up_ms: int = 0
    last_fetch_leader_log_end: int | None = None
    last_fetch_ms: int = 0

    def record_fetch(self, fetch_offset: int, leader_log_end: int, now: int) -> None:
        if fetch_offset >= leader_log_end:
            self.last_caught_up_ms = max(self.last_caught_up_ms, now)
        elif self.last_fetch_leader_log_end is not None and fetch_offset >= self.last_fetch_leader_log_end:
            self.last_caught_up_ms = max(self.last_caught_up_ms, self.last_fetch_ms)
        self.log_end = fetch_offset
        self.last_fetch_leader_log_end = leader_log_end
        self.last_fetch_ms = now


@dataclass(frozen=True, slots=True)
class WaitingProduce:
    request_id: Hashable
    base_offset: int
    last_offset: int
    deadline: int
    log_append_time: int = -1


class Leadership:
    def __init__(
        self,
        broker_id: int,
        state: PartitionState,
        replicas: Sequence[int],
        log: LogPositions,
        config: ReplicationConfig,
        high_watermark: int,
        now: int,
    ) -> None:
        self._me = broker_id
        self._log = log
        self._config = config
        self.epoch = state.leader_epoch
        self.epoch_start_offset = log.log_end_offset
        self.isr = frozenset(state.isr)
        self.version = state.version
        self._min_isr = min(config.min_insync_replicas, len(replicas))
        self.followers = {
            replica: FollowerProgress(last_caught_up_ms=now if replica in self.isr else 0)
            for replica in replicas
            if replica != broker_id
        }
        self.high_watermark = max(min(high_watermark, log.log_end_offset), log.log_start_offset)
        self._proposal: AlterIsr | None = None
        self._proposed_at = 0
        self._waiting: dict[Hashable, WaitingProduce] = {}
        self._advance_high_watermark()  # Kafka's makeLeader: an ISR of this leader alone commits its log at once

    @property
    def under_min_isr(self) -> bool:
        return len(self.isr) < self._min_isr

    # --- produce -------------------------------------------------------------------------------

    def admit(self, acks: int) -> ErrorCode:
        """Whether a produce may be appended at all (checked before anything is written)."""
        if acks == ACKS_ALL and self.under_min_isr:
            return ErrorCode.NOT_ENOUGH_REPLICAS
        return ErrorCode.NONE

    def appended(
        self, request_id: Hashable, acks: int, timeout_ms: int, base_offset: int, last_offset: int, now: int,
        log_append_time: int = -1,
    ) -> list[Action]:
        """An acks=all write already below the HW (an idempotent retry answered with its original offsets)
        is done now: waiting for the HW to move past it would wait for the next write, or time out."""
        if acks != ACKS_ALL or last_offset < self.high_watermark:
            return [CompleteProduce(request_id, ErrorCode.NONE, base_offset, log_append_time),
                    *self._advance_high_watermark()]
        self._waiting[request_id] = WaitingProduce(request_id, base_offset, last_offset, now + timeout_ms,
                                                   log_append_time)
        return self._advance_high_watermark()

    def hand_over(self) -> dict[Hashable, WaitingProduce]:
        """This broker leads again in a new epoch: its waiting writes move to the new tenure."""
        waiting, self._waiting = self._waiting, {}
        return waiting

    def take_over(self, waiting: dict[Hashable, WaitingProduce]) -> list[Action]:
        """The previous epoch's waiting writes, still in this log: they complete as the HW passes them."""
        self._waiting.update(waiting)
        if waiting and self.under_min_isr:
            return self._fail_waiting(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        return self._advance_high_watermark()

    def resign(self) -> list[Action]:
        """Leadership ended: every waiting acks=all write learns it, none is left hanging."""
        waiting, self._waiting = self._waiting, {}
        return [CompleteProduce(w.request_id, ErrorCode.NOT_LEADER_OR_FOLLOWER) for w in waiting.values()]

    # --- followers -----------------------------------------------------------------------------

    def fetch(self, request: FetchRequest, now: int) -> tuple[FetchAnswer, list[Action]]:
        log_end = self._log.log_end_offset
        error = self._fetch_error(request, log_end)
        if error != ErrorCode.NONE:
            return self._refusal(error, log_end), []
        progress = self.followers[request.replica_id]
        progress.record_fetch(request.fetch_offset, log_end, now)
        actions = self._maybe_expand(request.replica_id, now)
        actions += self._advance_high_watermark()
        answer = FetchAnswer(
            ErrorCode.NONE, self.high_watermark, self._log.log_start_offset, log_end, request.fetch_offset, log_end
        )
        return answer, actions

    def _fetch_error(self, request: FetchRequest, log_end: int) -> ErrorCode:
        if request.current_leader_epoch < self.epoch:
            return ErrorCode.FENCED_LEADER_EPOCH
        if request.current_leader_epoch > self.epoch:
            return ErrorCode.UNKNOWN_LEADER_EPOCH
        if request.replica_id not in self.followers:
            return ErrorCode.REPLICA_NOT_AVAILABLE
        if not self._log.log_start_offset <= request.fetch_offset <= log_end:
            return ErrorCode.OFFSET_OUT_OF_RANGE
        return ErrorCode.NONE

    def _refusal(self, error: ErrorCode, log_end: int) -> FetchAnswer:
        return FetchAnswer(error, self.high_watermark, self._log.log_start_offset, log_end, 0, 0)

    def consumer_read(self, fetch_offset: int, current_leader_epoch: int) -> FetchAnswer:
        """Consumers read below the HW; -1 as their epoch means they do not track epochs."""
        log_end = self._log.log_end_offset
        if 0 <= current_leader_epoch < self.epoch:
            return self._refusal(ErrorCode.FENCED_LEADER_EPOCH, log_end)
        if current_leader_epoch > self.epoch:
            return self._refusal(ErrorCode.UNKNOWN_LEADER_EPOCH, log_end)
        if not self._log.log_start_offset <= fetch_offset <= log_end:
            return self._refusal(ErrorCode.OFFSET_OUT_OF_RANGE, log_end)
        to = max(self.high_watermark, fetch_offset)
        return FetchAnswer(ErrorCode.NONE, self.high_watermark, self._log.log_start_offset, log_end, fetch_offset, to)

    def epoch_end_offset(self, epoch: int) -> tuple[int, int]:
        """Where `epoch` ends in this leader's log, its own epoch counting from `epoch_start_offset`.

        As in Kafka (which records the leader's epoch in its cache on election), this leader
        knows its own epoch even before writing in it: every older epoch it holds ends where
        its own began, and an epoch older than all it knows ends where the first known begins.
        """
        if epoch >= self.epoch:
            return self.epoch, self._log.log_end_offset
        latest = self._log.latest_epoch
        if latest == UNDEFINED_EPOCH:
            return epoch, self.epoch_start_offset
        if epoch >= latest and latest < self.epoch:
            return latest, self.epoch_start_offset
        return self._log.end_offset_for_epoch(epoch)

    # --- the ISR -------------------------------------------------------------------------------

    def tick(self, now: int) -> list[Action]:
        actions: list[Action] = self._expire_waiting(now)
        if self._proposal is not None and now - self._proposed_at >= self._config.isr_update_timeout_ms:
            self._proposed_at = now
            actions.append(self._proposal)
        lagging = {
            replica
            for replica in self.isr
            if replica != self._me
            and now - self._progress_caught_up(replica) > self._config.replica_lag_time_max_ms
        }
        if lagging and self._proposal is None:
            actions += self._propose(self.isr - lagging, now)
        return actions

    def _progress_caught_up(self, replica: int) -> int:
        progress = self.followers.get(replica)
        return progress.last_caught_up_ms if progress is not None else 0

    def _maybe_expand(self, replica: int, now: int) -> list[Action]:
        if replica in self.isr or self._proposal is not None:
            return []
        log_end = self.followers[replica].log_end
        if log_end is None or log_end < self.high_watermark or log_end < self.epoch_start_offset:
            return []
        return self._propose(self.isr | {replica}, now)

    def _propose(self, isr: frozenset[int], now: int) -> list[Action]:
        ordered = tuple(sorted(isr, key=lambda replica: (replica != self._me, replica)))
        self._proposal = AlterIsr(ordered, self.epoch, self.version)
        self._proposed_at = now
        return [self._proposal]

    def adopt(self, state: PartitionState) -> list[Action]:
        """The keeper's current state for this epoch (an answer to our write, or the controller's)."""
        if state.version <= self.version:
            return []
        self.version = state.version
        self.isr = frozenset(state.isr)
        self._proposal = None
        if self.under_min_isr:
            return self._fail_waiting(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        return self._advance_high_watermark()

    def refused(self, change: AlterIsr) -> None:
        """The keeper answered `change` with the state we knew: it did not apply it."""
        if change == self._proposal:
            self._proposal = None

    # --- the high watermark --------------------------------------------------------------------

    def _advance_high_watermark(self) -> list[Action]:
        if self.under_min_isr:
            return []
        members = self.isr | (frozenset(self._proposal.isr) if self._proposal is not None else frozenset())
        ends = [self._log.log_end_offset]
        for replica in members - {self._me}:
            progress = self.followers.get(replica)
            if progress is None or progress.log_end is None:
                return []
            ends.append(progress.log_end)
        candidate = min(ends)
        if candidate <= self.high_watermark:
            return []
        self.high_watermark = candidate
        done = [w for w in self._waiting.values() if w.last_offset < candidate]
        for waiting in done:
            del self._waiting[waiting.request_id]
        return [CompleteProduce(w.request_id, ErrorCode.NONE, w.base_offset, w.log_append_time) for w in done]

    def _expire_waiting(self, now: int) -> list[Action]:
        expired = [w for w in self._waiting.values() if now >= w.deadline]
        for waiting in expired:
            del self._waiting[waiting.request_id]
        return [CompleteProduce(w.request_id, ErrorCode.REQUEST_TIMED_OUT) for w in expired]

    def _fail_waiting(self, error: ErrorCode) -> list[Action]:
        waiting, self._waiting = self._waiting, {}
        return [CompleteProduce(w.request_id, error) for w in waiting.values()]
