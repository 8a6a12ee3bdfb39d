"""What the core hands its driver in one round, and the order the driver must act on it."""

from __future__ import annotations

from dataclasses import dataclass

from cluster.keeper.raft.messages import Message
from cluster.keeper.raft.state import DurableState, Entry, HardState, Snapshot, SoftState


@dataclass(frozen=True, slots=True)
class ReadState:
    """A read-index request is safe to serve once the application has applied `index`."""

    index: int
    context: bytes


@dataclass(frozen=True, slots=True)
class Ready:
    """One batch of work, handled strictly in this order (etcd's Ready contract):

    1. persist `snapshot` (dropping the log entries it covers, or the whole log when the log does
       not hold the snapshot's last entry), then `entries` (first truncating the durable log
       after `entries[0].index - 1`), then `hard_state`, and sync them;
    2. only then send `messages`: votes and acknowledgements in them promise that durability;
    3. apply: restore the state machine from `snapshot` if its index is beyond what was applied,
       apply `committed_entries` in order, serve `read_states` once their index is applied;
    4. call `advance()`, which tells the core all of the above is durable and applied.
    """

    soft_state: SoftState | None
    hard_state: HardState | None
    entries: tuple[Entry, ...]
    snapshot: Snapshot | None
    committed_entries: tuple[Entry, ...]
    messages: tuple[Message, ...]
    read_states: tuple[ReadState, ...]

    @property
    def must_sync(self) -> bool:
        """Whether step 1 has anything to write."""
        return bool(self.entries) or self.snapshot is not None or self.hard_state is not None


def persisted(durable: DurableState, ready: Ready) -> DurableState:
    """What storage holds once step 1 of `ready` is done: a driver's storage must end up
    equivalent, however it lays the bytes out."""
    snapshot, entries = durable.snapshot, durable.entries
    if ready.snapshot is not None:
        snapshot = ready.snapshot
        entries = _after_snapshot(entries, snapshot)
    if ready.entries:
        keep = ready.entries[0].index - entries[0].index if entries else 0
        entries = entries[: max(keep, 0)] + ready.entries
    return DurableState(ready.hard_state or durable.hard_state, snapshot, entries)


def _after_snapshot(entries: tuple[Entry, ...], snapshot: Snapshot) -> tuple[Entry, ...]:
    """Entries after a new snapshot survive only if the log holds the snapshot's last entry (a
    local compaction); after InstallSnapshot of a log that disagreed, nothing survives."""
    if not entries or not entries[0].index <= snapshot.index <= entries[-1].index:
        return ()
    offset = snapshot.index - entries[0].index
    if entries[offset].term != snapshot.term:
        return ()
    return entries[offset + 1 :]
