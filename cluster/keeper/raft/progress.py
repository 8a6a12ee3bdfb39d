"""The leader's view of one follower's log (etcd's Progress): how far it matches, what to send."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ProgressState(enum.Enum):
    PROBE = "probe"  # we do not know where the logs diverge: one append at a time
    REPLICATE = "replicate"  # logs agree up to match: stream entries optimistically
    SNAPSHOT = "snapshot"  # the entries it needs are compacted: a snapshot is on its way


@dataclass(slots=True)
class Progress:
    next: int
    match: int = 0
    state: ProgressState = ProgressState.PROBE
    probe_sent: bool = False
    recent_active: bool = False

    @property
    def paused(self) -> bool:
        if self.state is ProgressState.PROBE:
            return self.probe_sent
        return self.state is ProgressState.SNAPSHOT

    def become_probe(self) -> None:
        self.next = self.match + 1
        self.state = ProgressState.PROBE
        self.probe_sent = False

    def become_replicate(self) -> None:
        self.state = ProgressState.REPLICATE
        self.next = self.match + 1

    def become_snapshot(self) -> None:
        """Paused until the follower acknowledges the snapshot (or a heartbeat says to resend)."""
        self.state = ProgressState.SNAPSHOT

    def sent_entries(self, last: int) -> None:
        if self.state is ProgressState.REPLICATE:
            self.next = last + 1
        else:
            self.probe_sent = True

    def maybe_update(self, index: int) -> bool:
        """The follower acknowledged everything up to `index`; False if that is old news."""
        updated = index > self.match
        if updated:
            self.match = index
            self.probe_sent = False
        self.next = max(self.next, index + 1)
        return updated

    def maybe_decrease_to(self, rejected: int, match_hint: int) -> bool:
        """The follower rejected the append after `rejected`; it may match up to `match_hint`.
        False when the rejection answers an append we no longer care about."""
        if self.state is ProgressState.REPLICATE:
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            return False
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.probe_sent = False
        return True
