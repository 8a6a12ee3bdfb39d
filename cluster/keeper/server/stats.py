"""Counters a server reports through srvr, stat and mntr, as ZooKeeper's ServerStats does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ServerStats:
    packets_received: int = 0
    packets_sent: int = 0
    latency_count: int = 0
    latency_total_ms: float = 0.0
    latency_min_ms: float = 0.0
    latency_max_ms: float = 0.0

    def answered(self, latency_ms: float) -> None:
        """One request answered `latency_ms` after it arrived."""
        if not self.latency_count or latency_ms < self.latency_min_ms:
            self.latency_min_ms = latency_ms
        self.latency_max_ms = max(self.latency_max_ms, latency_ms)
        self.latency_count += 1
        self.latency_total_ms += latency_ms

    @property
    def latency_avg_ms(self) -> float:
        return self.latency_total_ms / self.latency_count if self.latency_count else 0.0
