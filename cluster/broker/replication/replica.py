"""A broker's replica of one partition: leader or follower as the controller's states say.

Events in (controller states, produce requests, fetches from followers, responses from the
leader, the keeper's answer to an ISR change, the passing of time), actions out (see
`actions`). The core reads its log through `LogPositions` and never writes it, keeps no clock
(every event carries `now`, in milliseconds) and does no I/O, so the broker's asyncio runtime
and the deterministic simulator drive the same code.

States are ordered by (leader epoch, znode version): older or repeated ones are ignored, so a
reordered or replayed notification cannot move a replica backwards. A new epoch always
restarts the role: a follower truncates again even when its leader did not change; a leader
that stays leader keeps its waiting acks=all writes (Kafka's makeLeader keeps its delayed
produces), which are in its log and commit as the new epoch's HW passes them.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Hashable, Sequence

from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication.actions import Action, AlterIsr, AppendAsLeader, CompleteProduce
from cluster.broker.replication.config import ReplicationConfig
from cluster.broker.replication.following import Following, Phase
from cluster.broker.replication.leader import ACKS_ALL, Leadership
from cluster.broker.replication.log_positions import UNDEFINED_EPOCH, UNDEFINED_OFFSET, LogPositions
from cluster.broker.replication.messages import (
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchAnswer,
    FetchRequest,
    FetchResponse,
)

VALID_ACKS = (ACKS_ALL, 0, 1)


class Role(enum.Enum):
    UNKNOWN = "unknown"
    """No state received yet (a broker that just started waits for the controller)."""
    LEADER = "leader"
    FOLLOWER = "follower"
    OFFLINE = "offline"
    """The partition has no leader; this replica waits."""


class PartitionReplica:
    def __init__(self, broker_id: int, log: LogPositions, config: ReplicationConfig) -> None:
        self.broker_id = broker_id
        self._log = log
        self._config = config
        self.state: PartitionState | None = None
        self._leadership: Leadership | None = None
        self._following: Following | None = None
        self._high_watermark = log.log_start_offset
        self._correlations = itertools.count(1)

    # --- what the replica is -------------------------------------------------------------------

    @property
    def role(self) -> Role:
        if self._leadership is not None:
            return Role.LEADER
        if self._following is not None:
            return Role.FOLLOWER
        return Role.UNKNOWN if self.state is None else Role.OFFLINE

    @property
    def leader_epoch(self) -> int:
        return self.state.leader_epoch if self.state is not None else UNDEFINED_EPOCH

    @property
    def high_watermark(self) -> int:
        if self._leadership is not None:
            return self._leadership.high_watermark
        if self._following is not None:
            return self._following.high_watermark
        return min(self._high_watermark, self._log.log_end_offset)

    @property
    def isr(self) -> frozenset[int]:
        """The leader's ISR (committed by the keeper); empty when not leading."""
        return self._leadership.isr if self._leadership is not None else frozenset()

    @property
    def truncated(self) -> bool:
        """A follower that is done truncating for this epoch: its log is a prefix of the leader's."""
        return self._following is not None and self._following.phase == Phase.FETCHING

    @property
    def epoch_start_offset(self) -> int | None:
        return self._leadership.epoch_start_offset if self._leadership is not None else None

    # --- the controller's decisions ------------------------------------------------------------

    def apply_state(self, state: PartitionState, replicas: Sequence[int], now: int) -> list[Action]:
        current = self.state
        if current is not None and (state.leader_epoch, state.version) <= (current.leader_epoch, current.version):
            return []
        self.state = state
        if current is not None and state.leader_epoch == current.leader_epoch:
            return self._leadership.adopt(state) if self._leadership is not None else []
        waiting = self._leadership.hand_over() if self._leadership is not None and state.leader == self.broker_id else {}
        actions = self._step_down()
        if state.leader == self.broker_id:
            self._leadership = Leadership(
                self.broker_id, state, replicas, self._log, self._config, self._high_watermark, now
            )
            actions += self._leadership.take_over(waiting)
        elif state.leader != NO_LEADER:
            self._following = Following(
                self.broker_id,
                state.leader,
                state.leader_epoch,
                self._log,
                self._config,
                self._high_watermark,
                self._correlations,
            )
            actions += self._following.start(now)
        return actions

    def isr_update_result(
        self, change: AlterIsr, state: PartitionState, replicas: Sequence[int], now: int
    ) -> list[Action]:
        """The keeper's answer to `change`: the state it holds after the conditional write.

        A driver that could not reach the keeper reports nothing: `tick` sends the change again."""
        actions = self.apply_state(state, replicas, now)
        if self._leadership is not None and state.version <= self._leadership.version:
            self._leadership.refused(change)
        return actions

    def _step_down(self) -> list[Action]:
        self._high_watermark = self.high_watermark
        actions = self._leadership.resign() if self._leadership is not None else []
        self._leadership = None
        self._following = None
        return actions

    # --- leader side ---------------------------------------------------------------------------

    def produce(self, request_id: Hashable, acks: int, timeout_ms: int) -> list[Action]:
        if acks not in VALID_ACKS:
            return [CompleteProduce(request_id, ErrorCode.INVALID_REQUIRED_ACKS)]
        if self._leadership is None:
            return [CompleteProduce(request_id, ErrorCode.NOT_LEADER_OR_FOLLOWER)]
        error = self._leadership.admit(acks)
        if error != ErrorCode.NONE:
            return [CompleteProduce(request_id, error)]
        return [AppendAsLeader(request_id, self._leadership.epoch, acks, timeout_ms)]

    def appended_as_leader(
        self, append: AppendAsLeader, base_offset: int, last_offset: int, now: int, log_append_time: int = -1
    ) -> list[Action]:
        """`log_append_time` (-1 for CreateTime) goes back to the producer with the answer."""
        leadership = self._leadership
        if leadership is None or leadership.epoch != append.leader_epoch:
            return [CompleteProduce(append.request_id, ErrorCode.NOT_LEADER_OR_FOLLOWER)]
        return leadership.appended(append.request_id, append.acks, append.timeout_ms, base_offset, last_offset, now,
                                   log_append_time)

    def fetch(self, request: FetchRequest, now: int) -> tuple[FetchAnswer, list[Action]]:
        """A follower's fetch (replica_id >= 0): read to the log end; its offset is its log end."""
        if self._leadership is None:
            return self._not_leader(), []
        return self._leadership.fetch(request, now)

    def consumer_fetch(self, fetch_offset: int, current_leader_epoch: int = -1) -> FetchAnswer:
        if self._leadership is None:
            return self._not_leader()
        return self._leadership.consumer_read(fetch_offset, current_leader_epoch)

    def _not_leader(self) -> FetchAnswer:
        log = self._log
        return FetchAnswer(
            ErrorCode.NOT_LEADER_OR_FOLLOWER, self.high_watermark, log.log_start_offset, log.log_end_offset, 0, 0
        )

    def epoch_end_offset(self, request: EpochEndOffsetRequest) -> EpochEndOffsetResponse:
        leadership = self._leadership
        if leadership is None:
            error = ErrorCode.NOT_LEADER_OR_FOLLOWER
        elif request.current_leader_epoch < leadership.epoch:
            error = ErrorCode.FENCED_LEADER_EPOCH
        elif request.current_leader_epoch > leadership.epoch:
            error = ErrorCode.UNKNOWN_LEADER_EPOCH
        else:
            epoch, end = leadership.epoch_end_offset(request.leader_epoch)
            return EpochEndOffsetResponse(request.correlation, ErrorCode.NONE, epoch, end)
        return EpochEndOffsetResponse(request.correlation, error, UNDEFINED_EPOCH, UNDEFINED_OFFSET)

    # --- follower side -------------------------------------------------------------------------

    def on_epoch_end_offset(self, response: EpochEndOffsetResponse, now: int) -> list[Action]:
        return self._following.on_epoch_end_offset(response, now) if self._following is not None else []

    def on_fetch_response(self, response: FetchResponse, now: int) -> list[Action]:
        return self._following.on_fetch_response(response, now) if self._following is not None else []

    def log_changed(self, now: int) -> list[Action]:
        """After the driver applied `AppendAsFollower`, `TruncateTo` or `TruncateFullyAndStartAt`."""
        return self._following.log_changed(now) if self._following is not None else []

    def log_change_failed(self, now: int) -> list[Action]:
        """The driver's log refused one of those (or `AdvanceLogStart`): nothing changed."""
        return self._following.log_change_failed(now) if self._following is not None else []

    # --- time ----------------------------------------------------------------------------------

    def tick(self, now: int) -> list[Action]:
        if self._leadership is not None:
            return self._leadership.tick(now)
        if self._following is not None:
            return self._following.tick(now)
        return []
