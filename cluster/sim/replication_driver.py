"""Carries out a replica's actions on its in-memory log, the way a broker's runtime would.

Log changes are applied at once and reported back to the core; everything else (messages to
send, produce answers, ISR writes) is handed back to the caller, who owns the network. The
simulator's brokers and the core's tests share this glue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable

from cluster.broker.replication import (
    Action,
    AdvanceLogStart,
    AppendAsFollower,
    AppendAsLeader,
    EpochEndOffsetRequest,
    EpochEndOffsetResponse,
    FetchRequest,
    FetchResponse,
    LogPositions,
    PartitionReplica,
    ReplicationConfig,
    TruncateFullyAndStartAt,
    TruncateTo,
)
from cluster.sim.replication_log import MemoryLog

ReplicaCore = Callable[[int, LogPositions, ReplicationConfig], PartitionReplica]
"""Builds a broker's replica core: `PartitionReplica`, or in tests one broken on purpose."""


class ReplicaDriver:
    def __init__(
        self, broker_id: int, log: MemoryLog, config: ReplicationConfig, core: ReplicaCore = PartitionReplica
    ) -> None:
        self.log = log
        self.replica = core(broker_id, log, config)
        self._values: dict[Hashable, int] = {}

    def produce(self, request_id: Hashable, value: int, acks: int, timeout_ms: int, now: int) -> list[Action]:
        self._values[request_id] = value
        try:
            return self.run(self.replica.produce(request_id, acks, timeout_ms), now)
        finally:
            self._values.pop(request_id, None)

    def answer_fetch(self, request: FetchRequest, now: int) -> tuple[FetchResponse, list[Action]]:
        answer, actions = self.replica.fetch(request, now)
        records = self.log.read(answer.read_from, answer.read_to) if answer.has_records else None
        response = FetchResponse(
            request.correlation, answer.error, answer.high_watermark, answer.log_start_offset,
            answer.log_end_offset, records,
        )
        return response, self.run(actions, now)

    def answer_epoch_end_offset(self, request: EpochEndOffsetRequest) -> EpochEndOffsetResponse:
        return self.replica.epoch_end_offset(request)

    def run(self, actions: Iterable[Action], now: int) -> list[Action]:
        """Applies the log changes among `actions` (and those they lead to); returns the rest."""
        pending = deque(actions)
        rest: list[Action] = []
        replica = self.replica
        while pending:
            action = pending.popleft()
            if isinstance(action, AppendAsLeader):
                offset = self.log.append_as_leader(self._values[action.request_id], action.leader_epoch)
                pending.extend(replica.appended_as_leader(action, offset, offset, now))
            elif isinstance(action, AppendAsFollower):
                self.log.append_as_follower(action.records)
                pending.extend(replica.log_changed(now))
            elif isinstance(action, TruncateTo):
                self.log.truncate_to(action.offset)
                pending.extend(replica.log_changed(now))
            elif isinstance(action, AdvanceLogStart):
                self.log.delete_records_before(action.offset)
            elif isinstance(action, TruncateFullyAndStartAt):
                self.log.truncate_fully_and_start_at(action.offset)
                pending.extend(replica.log_changed(now))
            else:
                rest.append(action)
        return rest
