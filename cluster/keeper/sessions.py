"""Session liveness as the leader sees it: negotiated timeouts and expiry deadlines.

Which sessions exist is replicated (createSession and closeSession are txns);
when each was last heard from is not: only the leader hears heartbeats, and it
turns a lapsed session into a closeSession txn. A new leader starts every
session's clock afresh, as ZooKeeper's does.
"""

from __future__ import annotations

from typing import Mapping


def negotiate_timeout(requested_ms: int, tick_ms: int) -> int:
    """ZooKeeper's defaults: minSessionTimeout = 2 ticks, maxSessionTimeout = 20 ticks."""
    return max(2 * tick_ms, min(requested_ms, 20 * tick_ms))


class SessionTracker:
    """Expiry deadlines rounded up to the next tick, so expiries come in per-tick batches as in ZooKeeper."""

    def __init__(self, tick_ms: int) -> None:
        self.tick_ms = tick_ms
        self._timeouts: dict[int, int] = {}
        self._deadlines: dict[int, int] = {}
        self._closing: set[int] = set()

    @classmethod
    def resume(cls, sessions: Mapping[int, int], tick_ms: int, now_ms: int) -> SessionTracker:
        """A new leader's tracker: every replicated session (id -> timeout) counts as heard from now."""
        tracker = cls(tick_ms)
        for session_id, timeout_ms in sessions.items():
            tracker.track(session_id, timeout_ms, now_ms)
        return tracker

    def track(self, session_id: int, timeout_ms: int, now_ms: int) -> None:
        self._timeouts[session_id] = timeout_ms
        self.touch(session_id, now_ms)

    def touch(self, session_id: int, now_ms: int) -> bool:
        """A heartbeat or request; False when the session is unknown or already being expired."""
        if session_id not in self._timeouts or session_id in self._closing:
            return False
        self._deadlines[session_id] = self._round_up(now_ms + self._timeouts[session_id])
        return True

    def expired(self, now_ms: int) -> list[int]:
        """Sessions whose deadline has passed, each reported once: the caller proposes their closeSession."""
        lapsed = sorted(s for s, deadline in self._deadlines.items() if deadline <= now_ms and s not in self._closing)
        self._closing.update(lapsed)
        return lapsed

    def forget(self, session_id: int) -> None:
        """The session's closeSession was applied."""
        self._timeouts.pop(session_id, None)
        self._deadlines.pop(session_id, None)
        self._closing.discard(session_id)

    def next_deadline_ms(self) -> int | None:
        """When `expired` next has something to say, so a driver can sleep until then."""
        return min((d for s, d in self._deadlines.items() if s not in self._closing), default=None)

    def _round_up(self, time_ms: int) -> int:
        return (time_ms // self.tick_ms + 1) * self.tick_ms
