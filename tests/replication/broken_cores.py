"""Replica cores broken on purpose: the simulation's checks must catch each of them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    Action,
    EpochEndOffsetResponse,
    LogPositions,
    PartitionReplica,
    ReplicationConfig,
    TruncateTo,
)


class AcknowledgesAcksAllAtAppend(PartitionReplica):
    """acks=all is answered as acks=1 is, before any follower has the write."""

    def produce(self, request_id: Hashable, acks: int, timeout_ms: int) -> list[Action]:
        return super().produce(request_id, 1 if acks == -1 else acks, timeout_ms)


class NeverTruncates(PartitionReplica):
    """Followers keep whatever they hold, whatever the leader says about its epochs."""

    def on_epoch_end_offset(self, response: EpochEndOffsetResponse, now: int) -> list[Action]:
        return [a for a in super().on_epoch_end_offset(response, now) if not isinstance(a, TruncateTo)]


class TruncatesToHighWatermark(PartitionReplica):
    """Kafka before KIP-101: a follower cuts its log at its own high watermark."""

    def __init__(self, broker_id: int, log: LogPositions, config: ReplicationConfig) -> None:
        super().__init__(broker_id, log, config)
        self._positions = log

    def on_epoch_end_offset(self, response: EpochEndOffsetResponse, now: int) -> list[Action]:
        if response.error == ErrorCode.NONE:
            response = replace(response, leader_epoch=self._positions.latest_epoch, end_offset=self.high_watermark)
        return super().on_epoch_end_offset(response, now)
