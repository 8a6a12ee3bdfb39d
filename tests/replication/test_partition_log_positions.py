"""The broker's on-disk log drives the replication core as the simulator's in-memory log does."""

from __future__ import annotations

from pathlib import Path

from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import (
    EpochEndOffsetResponse,
    PartitionLogPositions,
    PartitionReplica,
    SendEpochEndOffset,
    SendFetch,
    TruncateTo,
)
from tests.log.batches import make_batch
from tests.replication.wiring import CONFIG, state


def test_a_follower_on_the_partition_log_truncates_by_leader_epoch(tmp_path: Path) -> None:
    log = PartitionLog.open(tmp_path / "topic-0")
    try:
        log.append(make_batch(2, 1_000), leader_epoch=0)
        log.append(make_batch(1, 1_000), leader_epoch=2)
        positions = PartitionLogPositions(log)
        assert (positions.log_start_offset, positions.log_end_offset, positions.latest_epoch) == (0, 3, 2)
        assert positions.end_offset_for_epoch(1) == (0, 2)
        replica = PartitionReplica(5, positions, CONFIG)
        [ask] = replica.apply_state(state(1, 3, (1,), version=0), (1, 5), now=0)
        assert isinstance(ask, SendEpochEndOffset) and ask.request.leader_epoch == 2
        answer = EpochEndOffsetResponse(ask.request.correlation, ErrorCode.NONE, 0, 2)
        [cut] = replica.on_epoch_end_offset(answer, now=1)
        assert cut == TruncateTo(2)
        log.truncate_to(cut.offset)
        [fetch] = replica.log_changed(now=1)
        assert isinstance(fetch, SendFetch) and fetch.request.fetch_offset == 2
        assert positions.latest_epoch == 0
    finally:
        log.close()
