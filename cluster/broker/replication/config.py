"""The replication settings a partition replica obeys, under Kafka's property names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplicationConfig:
    min_insync_replicas: int = 1
    """`min.insync.replicas`: acks=all needs this many in-sync replicas, and so does the HW to move."""
    replica_lag_time_max_ms: int = 30_000
    """`replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR."""
    replica_fetch_wait_max_ms: int = 500
    """`replica.fetch.wait.max.ms`: a follower whose fetch brought nothing waits this long to ask again."""
    replica_fetch_backoff_ms: int = 1_000
    """`replica.fetch.backoff.ms`: a follower waits this long after an error before retrying."""
    replica_socket_timeout_ms: int = 30_000
    """`replica.socket.timeout.ms`: an unanswered follower request is sent again after this long."""
    isr_update_timeout_ms: int = 30_000
    """An ISR change the keeper has not answered for this long is sent again."""

    def __post_init__(self) -> None:
        if self.min_insync_replicas < 1:
            raise ValueError(f"min.insync.replicas must be at least 1, got {self.min_insync_replicas}")
        for name in ("replica_lag_time_max_ms", "replica_fetch_wait_max_ms", "replica_fetch_backoff_ms",
                     "replica_socket_timeout_ms", "isr_update_timeout_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', '.')} must not be negative, got {getattr(self, name)}")
