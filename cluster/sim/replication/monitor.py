"""The simulator's checks on replication: what must hold at every moment, and at the end.

- A leader's high watermark never goes back during its epoch.
- Every in-sync follower that finished truncating in the leader's epoch holds, below the
  leader's HW, exactly the leader's records (same offsets, epochs and values).
- At the end, after healing: every acknowledged write is at its offset in the final log, and
  no value is there twice. A lost acknowledged write is a violation when the configuration
  promises it cannot happen: acks=all, clean election, and at least one ISR member up at every
  moment since the acknowledgement, up meaning running and registered with the keeper (Kafka's
  "alive"). When none is, the controller may elect a member that crashed and came back
  without its unflushed writes (Kafka does not fsync): a loss Kafka allows. Other losses
  (acks 0 and 1, unclean election) are expected ones, reported apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cluster.broker.metadata.partition_state import PartitionState
from cluster.sim.replication.client import Write
from cluster.sim.replication.memory_log import MemoryLog, Record


@dataclass(frozen=True, slots=True)
class LostWrite:
    write: Write
    found: str
    """What the final log holds at the acknowledged offset, or where the value went."""
    expected: str
    """Why the configuration allows this loss, or "" when it does not."""


@dataclass(slots=True)
class ReplicaView:
    """What the monitor needs of one live replica of one partition."""

    broker: int
    log: MemoryLog
    leading: bool
    epoch: int
    high_watermark: int
    isr: frozenset[int]
    truncated: bool


@dataclass(slots=True)
class ReplicationMonitor:
    unclean: bool
    violations: list[str] = field(default_factory=list)
    lost: list[LostWrite] = field(default_factory=list)
    _high_watermarks: dict[tuple[int, int, int], int] = field(default_factory=dict)
    _isr: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _wiped: dict[int, list[list[int | None]]] = field(default_factory=dict)
    """partition -> [start, end] of the spans in which no member of its ISR was up (end None: still)."""

    # --- at every moment -----------------------------------------------------------------------

    def observe_leader(self, broker: int, partition: int, epoch: int, high_watermark: int) -> None:
        key = (broker, partition, epoch)
        before = self._high_watermarks.get(key, high_watermark)
        if high_watermark < before:
            self._violate(
                f"broker {broker}'s HW of partition {partition} went back from {before} to {high_watermark} "
                f"in epoch {epoch}"
            )
        self._high_watermarks[key] = max(before, high_watermark)

    def state_stored(self, partition: int, state: PartitionState, up: Iterable[int], now: int) -> None:
        self._isr[partition] = state.isr
        self.brokers_up(up, now)

    def brokers_up(self, up: Iterable[int], now: int) -> None:
        """Called whenever a broker crashes, registers or expires, and when an ISR changes."""
        running = set(up)
        for partition, isr in self._isr.items():
            spans = self._wiped.setdefault(partition, [])
            ongoing = bool(spans) and spans[-1][1] is None
            if not running & set(isr) and not ongoing:
                spans.append([now, None])
            elif running & set(isr) and ongoing:
                spans[-1][1] = now

    def check_prefixes(self, partition: int, epoch: int, replicas: Iterable[ReplicaView]) -> None:
        """`epoch` is the keeper's current leader epoch: a deposed leader may still think it leads."""
        views = list(replicas)
        leaders = [v for v in views if v.leading and v.epoch == epoch]
        if len(leaders) != 1:
            return
        leader = leaders[0]
        for view in views:
            if view.leading or not view.truncated or view.epoch != leader.epoch or view.broker not in leader.isr:
                continue
            end = min(leader.high_watermark, view.log.log_end_offset)
            start = max(leader.log.log_start_offset, view.log.log_start_offset)
            if view.log.read(start, end) != leader.log.read(start, end):
                self._violate(
                    f"partition {partition}: in-sync follower {view.broker} differs from leader {leader.broker} "
                    f"below the HW {leader.high_watermark} in epoch {leader.epoch}: "
                    f"{_first_difference(view.log.read(start, end), leader.log.read(start, end))}"
                )

    # --- at the end ----------------------------------------------------------------------------

    def check_final_logs(self, final: Mapping[int, MemoryLog], writes: Iterable[Write]) -> None:
        for partition, log in final.items():
            seen: dict[int, int] = {}
            for record in log.records:
                if record.value in seen:
                    self._violate(
                        f"partition {partition}: value {record.value} is at offsets {seen[record.value]} "
                        f"and {record.offset}"
                    )
                seen[record.value] = record.offset
        for write in writes:
            if write.outcome != "ok":
                continue
            log = final[write.partition]
            if write.offset < log.log_start_offset:
                continue
            at = log.read(write.offset, write.offset + 1)
            if at and at[0].value == write.value:
                continue
            elsewhere = next((r.offset for r in log.records if r.value == write.value), None)
            found = f"offset {elsewhere}" if elsewhere is not None else (f"value {at[0].value}" if at else "nothing")
            lost = LostWrite(write, found, self._excuse(write))
            self.lost.append(lost)
            if not lost.expected:
                self._violate(
                    f"acknowledged acks=all write {write.value} at partition {write.partition} offset {write.offset} "
                    f"(acknowledged at t={write.completed}) is lost: the final log has {found} there"
                )

    def _excuse(self, write: Write) -> str:
        if write.acks != -1:
            return f"acks={write.acks}"
        if self.unclean:
            return "unclean leader election is enabled"
        for start, end in self._wiped.get(write.partition, []):
            if end is None or end >= write.completed:
                return f"no ISR member was up from t={start}" + (f" to t={end}" if end is not None else "")
        return ""

    def _violate(self, what: str) -> None:
        self.violations.append(what)


def _first_difference(follower: tuple[Record, ...], leader: tuple[Record, ...]) -> str:
    for mine, theirs in zip(follower, leader):
        if mine != theirs:
            return f"follower has {mine}, leader has {theirs}"
    return f"lengths {len(follower)} and {len(leader)}"
