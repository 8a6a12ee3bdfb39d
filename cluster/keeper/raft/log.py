"""The Raft log as one node sees it: a snapshot, the entries after it, and how much of both is
committed, durable and applied.

The core keeps the whole uncompacted log in memory (compaction keeps it short); the driver's
disk is only written through `Ready`. Three watermarks say what the driver has been told:
`unstable_from` is the first entry not yet handed out for persisting, `stable` the last entry
known to be durable, `applying` the last committed entry handed out for applying.
"""

from __future__ import annotations

from cluster.keeper.raft.state import Entry, Snapshot


class LogInvariantError(AssertionError):
    """The log was asked to do something Raft's safety argument says never happens."""


class RaftLog:
    def __init__(self, snapshot: Snapshot, entries: tuple[Entry, ...], commit: int) -> None:
        self.snapshot = snapshot
        self._entries = [e for e in entries if e.index > snapshot.index]
        for offset, entry in enumerate(self._entries):
            if entry.index != snapshot.index + 1 + offset:
                raise LogInvariantError(f"log is not contiguous after snapshot {snapshot.index}: {entry}")
        self.committed = max(commit, snapshot.index)
        if self.committed > self.last_index:
            raise LogInvariantError(f"commit {self.committed} beyond last index {self.last_index}")
        self.applied = snapshot.index
        self.applying = snapshot.index
        self.stable = self.last_index
        self.unstable_from = self.last_index + 1
        self.pending_snapshot: Snapshot | None = None
        self.generation = 0
        """Bumped by `restore`: a persist handed out before it says nothing about the new log."""

    @property
    def first_index(self) -> int:
        return self.snapshot.index + 1

    @property
    def last_index(self) -> int:
        return self.snapshot.index + len(self._entries)

    @property
    def last_term(self) -> int:
        return self._entries[-1].term if self._entries else self.snapshot.term

    def term(self, index: int) -> int | None:
        """The term of the entry at `index`, or None when it is compacted away or not there."""
        offset = index - self.snapshot.index
        if offset == 0:
            return self.snapshot.term
        if 0 < offset <= len(self._entries):
            return self._entries[offset - 1].term
        return None

    def entry(self, index: int) -> Entry | None:
        offset = index - self.snapshot.index
        return self._entries[offset - 1] if 0 < offset <= len(self._entries) else None

    def slice(self, start: int, stop: int) -> tuple[Entry, ...]:
        """Entries with start <= index < stop; `start` must not be compacted."""
        base = self.snapshot.index + 1
        return tuple(self._entries[start - base : stop - base])

    def matches(self, index: int, term: int) -> bool:
        return self.term(index) == term

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """The election restriction (Raft §5.4.1): is a candidate's log at least as new as ours?"""
        return last_term > self.last_term or (last_term == self.last_term and last_index >= self.last_index)

    def append(self, entry: Entry) -> None:
        if entry.index != self.last_index + 1:
            raise LogInvariantError(f"append {entry} after last index {self.last_index}")
        self._entries.append(entry)

    def maybe_append(self, prev_index: int, prev_term: int, commit: int, entries: tuple[Entry, ...]) -> int | None:
        """The follower side of AppendEntries: None when the consistency check fails, otherwise
        the index of the last entry the leader sent (everything up to it now matches the leader)."""
        if not self.matches(prev_index, prev_term):
            return None
        last_new = prev_index + len(entries)
        conflict = next((e for e in entries if not self.matches(e.index, e.term)), None)
        if conflict is not None:
            self._truncate_and_append(entries[conflict.index - prev_index - 1 :])
        self.commit_to(min(commit, last_new))
        return last_new

    def _truncate_and_append(self, entries: tuple[Entry, ...]) -> None:
        first = entries[0].index
        if first <= self.committed:
            raise LogInvariantError(f"truncating committed entry {first} (committed {self.committed})")
        del self._entries[first - self.snapshot.index - 1 :]
        self._entries.extend(entries)
        self.unstable_from = min(self.unstable_from, first)
        self.stable = min(self.stable, first - 1)

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The last index <= `index` whose term is <= `term`, and that term (0 if compacted).

        Both sides of fast backtracking use it: the follower to say where its log may still
        agree with the leader, the leader to skip a whole term of entries in one probe.
        """
        index = min(index, self.last_index)
        while index > self.snapshot.index:
            entry_term = self._entries[index - self.snapshot.index - 1].term
            if entry_term <= term:
                return index, entry_term
            index -= 1
        return index, self.snapshot.term if index == self.snapshot.index else 0

    def commit_to(self, index: int) -> None:
        if index <= self.committed:
            return
        if index > self.last_index:
            raise LogInvariantError(f"commit {index} beyond last index {self.last_index}")
        self.committed = index

    def restore(self, snapshot: Snapshot) -> None:
        """Replace the whole log by a snapshot the leader sent (InstallSnapshot)."""
        if snapshot.index <= self.committed:
            raise LogInvariantError(f"restoring snapshot {snapshot.index} at or below commit {self.committed}")
        self.snapshot = snapshot
        self._entries = []
        self.committed = self.applied = self.applying = snapshot.index
        self.stable = 0
        self.unstable_from = snapshot.index + 1
        self.pending_snapshot = snapshot
        self.generation += 1

    def compact(self, index: int, data: bytes) -> Snapshot:
        """Drop applied entries up to `index`, keeping the application's snapshot in their place."""
        if not self.snapshot.index < index <= self.applied:
            raise ValueError(f"can only compact applied entries after {self.snapshot.index}, up to {self.applied}")
        term = self.term(index)
        assert term is not None
        self._entries = self._entries[index - self.snapshot.index :]
        self.snapshot = Snapshot(index, term, data)
        self.pending_snapshot = self.snapshot
        return self.snapshot

    def has_unpersisted(self) -> bool:
        return self.pending_snapshot is not None or self.unstable_from <= self.last_index

    def has_unapplied(self) -> bool:
        return self.applying < self.committed

    def take_unpersisted(self) -> tuple[Snapshot | None, tuple[Entry, ...]]:
        snapshot, self.pending_snapshot = self.pending_snapshot, None
        entries = self.slice(self.unstable_from, self.last_index + 1)
        self.unstable_from = self.last_index + 1
        return snapshot, entries

    def take_unapplied(self) -> tuple[Entry, ...]:
        entries = self.slice(self.applying + 1, self.committed + 1)
        self.applying = self.committed
        return entries

    def stable_to(self, index: int, generation: int) -> None:
        """The driver made everything handed out up to `index` durable (unless the log was since
        replaced by a snapshot or truncated below it)."""
        if generation == self.generation:
            self.stable = max(self.stable, min(index, self.unstable_from - 1))

    def applied_to(self, index: int) -> None:
        self.applied = max(self.applied, index)
