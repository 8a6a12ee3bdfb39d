"""Following one leader in one epoch: truncate by leader epoch, then fetch and append.

Rules (KIP-101, KIP-279; Kafka's `AbstractFetcherThread`):
- On starting to follow (a new epoch, or a restart), ask the leader where the latest epoch in
  the local log ends, and truncate there; never to the local HW, which lags the leader's and
  would lose acknowledged acks=all writes after two quick failovers.
- The leader answers (E, end) with E the largest epoch it knows <= the one asked. If the local
  log knows E too, truncate to min(end, local end of E); if it does not, truncate to the end
  of the largest local epoch below E and ask again. A leader that knows no epoch at all (an
  empty log) answers -1: keep the log and let the fetch's OFFSET_OUT_OF_RANGE say where to cut.
- Fetch from the log end; append what comes back; HW = min(leader's HW, own log end). After a
  fetch that brought nothing, wait replica.fetch.wait.max.ms before the next, unless that is 0:
  a driver whose leader long-polls does the waiting there, and fetches again at once. Records
  below the leader's log start are dropped: the leader deleted them, and a history that
  diverged there (KIP-279 cannot see below the leader's first epoch) must not outlive them.
- OFFSET_OUT_OF_RANGE: past the leader's log end, truncate to it; below its log start (the
  leader deleted what this replica lacks), empty the log and restart it at the leader's start.
- FENCED_LEADER_EPOCH: this replica's view is stale; it stops and waits for the next state.
  Other errors (NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH: the leader has not heard yet)
  are retried after replica.fetch.backoff.ms; unanswered requests after replica.socket.timeout.ms.
- A change the log refuses (a full disk) is retried the same way: fetch again after the backoff.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication.actions import (
    Action,
    AdvanceLogStart,
    AppendAsFollower,
    SendEpochEndOffset,
    SendFetch,
    TruncateFullyAndStartAt,
    TruncateTo,
)
from cluster.broker.replication.config import ReplicationConfig
from cluster.broker.replication.log_positions import UNDEFINED_EPOCH, LogPositions
from cluster.broker.replication.messages import (
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchRequest,
    FetchResponse,
)


class Phase(enum.Enum):
    TRUNCATING = "truncating"
    FETCHING = "fetching"
    FENCED = "fenced"


class Following:
    def __init__(
        self,
        broker_id: int,
        leader: int,
        epoch: int,
        log: LogPositions,
        config: ReplicationConfig,
        high_watermark: int,
        correlations: Iterator[int],
    ) -> None:
        """`correlations` outlives this epoch: an answer to an earlier epoch's request cannot match."""
        self._me = broker_id
        self.leader = leader
        self.epoch = epoch
        self._log = log
        self._config = config
        self.high_watermark = high_watermark
        self.phase = Phase.TRUNCATING
        self._leader_high_watermark = high_watermark
        self._correlations = correlations
        self._in_flight: int | None = None
        self._sent_at = 0
        self._next_at = 0

    def start(self, now: int) -> list[Action]:
        return self._continue(now)

    # --- truncation ----------------------------------------------------------------------------

    def _ask_epoch_end(self, now: int) -> list[Action]:
        latest = self._log.latest_epoch
        if latest == UNDEFINED_EPOCH:
            self.phase = Phase.FETCHING
            return self._fetch(now)
        request = EpochEndOffsetRequest(self._me, latest, self.epoch, self._send(now))
        return [SendEpochEndOffset(self.leader, request)]

    def on_epoch_end_offset(self, response: EpochEndOffsetResponse, now: int) -> list[Action]:
        if self.phase != Phase.TRUNCATING or response.correlation != self._in_flight:
            return []
        self._in_flight = None
        if response.error != ErrorCode.NONE:
            return self._on_error(response.error, now)
        target, done = self._truncation_point(response)
        if done:
            self.phase = Phase.FETCHING
        if target < self._log.log_end_offset:
            return [TruncateTo(target)]
        if not done:  # nothing left to cut, so asking again could only repeat this answer
            self.phase = Phase.FETCHING
        return self._continue(now)

    def _truncation_point(self, response: EpochEndOffsetResponse) -> tuple[int, bool]:
        log_end = self._log.log_end_offset
        if response.leader_epoch == UNDEFINED_EPOCH:
            return log_end, True
        local_epoch, local_end = self._log.end_offset_for_epoch(response.leader_epoch)
        if local_epoch == UNDEFINED_EPOCH:
            return min(response.end_offset, log_end), True
        if local_epoch != response.leader_epoch:
            return min(local_end, log_end), False
        return min(response.end_offset, local_end, log_end), True

    # --- fetching ------------------------------------------------------------------------------

    def _fetch(self, now: int) -> list[Action]:
        request = FetchRequest(self._me, self._log.log_end_offset, self.epoch, self._send(now))
        return [SendFetch(self.leader, request)]

    def on_fetch_response(self, response: FetchResponse, now: int) -> list[Action]:
        if self.phase != Phase.FETCHING or response.correlation != self._in_flight:
            return []
        self._in_flight = None
        if response.error == ErrorCode.OFFSET_OUT_OF_RANGE:
            return self._out_of_range(response, now)
        if response.error != ErrorCode.NONE:
            return self._on_error(response.error, now)
        self._leader_high_watermark = response.high_watermark
        actions: list[Action] = []
        if response.log_start_offset > self._log.log_start_offset:
            actions.append(AdvanceLogStart(min(response.log_start_offset, self._log.log_end_offset)))
        if response.records is not None:
            return [*actions, AppendAsFollower(response.records)]
        self._learn_high_watermark()
        self._next_at = now + self._config.replica_fetch_wait_max_ms
        return actions + self._continue(now)  # at once when the wait happened at the leader (a long poll)

    def _out_of_range(self, response: FetchResponse, now: int) -> list[Action]:
        log_end = self._log.log_end_offset
        if log_end > response.log_end_offset:
            return [TruncateTo(response.log_end_offset)]
        if log_end < response.log_start_offset:
            return [TruncateFullyAndStartAt(response.log_start_offset)]
        return self._on_error(response.error, now)

    def _learn_high_watermark(self) -> None:
        self.high_watermark = min(self._leader_high_watermark, self._log.log_end_offset)

    # --- driving -------------------------------------------------------------------------------

    def log_changed(self, now: int) -> list[Action]:
        """The driver applied our truncation or append; carry on from the log as it now is."""
        self._learn_high_watermark()
        return self._continue(now)

    def log_change_failed(self, now: int) -> list[Action]:
        """The log refused our change (a full disk, a gap): fetch again from it as it is, after a backoff."""
        self._next_at = max(self._next_at, now + self._config.replica_fetch_backoff_ms)
        return []

    def tick(self, now: int) -> list[Action]:
        if self.phase == Phase.FENCED:
            return []
        if self._in_flight is not None:
            if now - self._sent_at < self._config.replica_socket_timeout_ms:
                return []
            self._in_flight = None
        if now < self._next_at:
            return []
        return self._continue(now)

    def _continue(self, now: int) -> list[Action]:
        if self._in_flight is not None or now < self._next_at:
            return []
        if self.phase == Phase.TRUNCATING:
            return self._ask_epoch_end(now)
        if self.phase == Phase.FETCHING:
            return self._fetch(now)
        return []

    def _send(self, now: int) -> int:
        self._in_flight = next(self._correlations)
        self._sent_at = now
        return self._in_flight

    def _on_error(self, error: ErrorCode, now: int) -> list[Action]:
        if error == ErrorCode.FENCED_LEADER_EPOCH:
            self.phase = Phase.FENCED
        else:
            self._next_at = now + self._config.replica_fetch_backoff_ms
        return []
