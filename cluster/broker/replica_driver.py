"""Carries out one partition replica's actions on its log: the part the broker and the simulator share.

The replication core (cluster/broker/replication/) decides and writes nothing. Its driver applies
the log changes it asks for to the replica's log, through `ReplicaLog`, and reports each back
(`appended_as_leader`, `log_changed`), since what the core does next depends on the log as it
then is. Everything else (produce answers, fetches and epoch queries to the leader, ISR writes)
is I/O, handed back in order to the caller: the broker's ReplicaManager, which owns sockets,
the keeper and timers, or the simulator's broker, which owns a virtual network. Both run this
code, so a simulated schedule exercises the broker's own handling of the core's actions.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from cluster.broker.replication import (
    Action,
    AdvanceLogStart,
    AppendAsFollower,
    AppendAsLeader,
    PartitionReplica,
    TruncateFullyAndStartAt,
    TruncateTo,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where a leader's append landed; `duplicate`: an idempotent retry the log already held, not written again;
    `log_append_time`: the time a LogAppendTime log stamped it with (-1: CreateTime), for the producer's answer."""

    base_offset: int
    last_offset: int
    duplicate: bool = False
    log_append_time: int = -1


class ReplicaLog(Protocol):
    """What a driver writes: the broker's Partition (its log and producer state) or the simulator's MemoryLog.

    `records` is whatever the log stores: a produce request's batch, or what a leader's fetch
    answer carried. The methods mirror the core's log actions, one for each."""

    def append_as_leader(self, records: Any, leader_epoch: int, /) -> AppendResult:
        """Raises when the log refuses the batch (corrupt, too large, a sequence gap): nothing was appended."""
        ...

    def append_as_follower(self, records: Any, /) -> None: ...

    def truncate_to(self, offset: int, /) -> None: ...

    def truncate_fully_and_start_at(self, offset: int, /) -> None: ...

    def advance_log_start(self, offset: int, /) -> None: ...


Log = TypeVar("Log", bound=ReplicaLog)


class ReplicaDriver(Generic[Log]):
    def __init__(self, name: str, replica: PartitionReplica, log: Log) -> None:
        self.name = name
        """Names the replica in log messages."""
        self.replica = replica
        self.log = log

    def produce(self, request_id: Hashable, records: Any, acks: int, timeout_ms: int, now: int) -> list[Action]:
        """Appends `records` as leader if the core admits the request; returns the actions left to carry out.

        Raises what the log raises when it refuses the batch: nothing was appended, the core has
        nothing to learn, and the caller answers the producer itself."""
        actions = self.replica.produce(request_id, acks, timeout_ms)
        if actions and isinstance(actions[-1], AppendAsLeader):
            append = actions.pop()
            appended = self.log.append_as_leader(records, append.leader_epoch)
            actions += self.replica.appended_as_leader(append, appended.base_offset, appended.last_offset, now,
                                                       appended.log_append_time)
        return self.run(actions, now)

    def run(self, actions: Iterable[Action], now: int) -> list[Action]:
        """Applies the log changes among `actions` and those the core then asks for; returns the rest, in order."""
        pending = deque(actions)
        rest: list[Action] = []
        while pending:
            action = pending.popleft()
            if isinstance(action, (AdvanceLogStart, AppendAsFollower, TruncateTo, TruncateFullyAndStartAt)):
                pending.extend(self._change_log(action, now))
            elif isinstance(action, AppendAsLeader):
                raise ValueError(f"{self.name}: {action!r} answers a produce request, which `produce` carries out")
            else:
                rest.append(action)
        return rest

    def _change_log(self, change: AdvanceLogStart | AppendAsFollower | TruncateTo | TruncateFullyAndStartAt,
                    now: int) -> list[Action]:
        """Applies a follower's log change, and tells the core how it went: a log that refused it (a
        gap, a full disk) has changed nothing, and the core fetches again after a backoff."""
        try:
            if isinstance(change, AdvanceLogStart):
                self.log.advance_log_start(change.offset)
                return []
            if isinstance(change, AppendAsFollower):
                self.log.append_as_follower(change.records)
            elif isinstance(change, TruncateTo):
                self.log.truncate_to(change.offset)
            else:
                self.log.truncate_fully_and_start_at(change.offset)
        except Exception as error:
            _log.error("%s: could not apply %s (%s); fetching again after a backoff", self.name,
                       type(change).__name__, error, exc_info=not isinstance(error, ValueError))
            return self.replica.log_change_failed(now)
        return self.replica.log_changed(now)
