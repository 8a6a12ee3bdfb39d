"""The driver the broker and the simulator share: the same log interface, the same handling of a refusing log."""

from __future__ import annotations

import inspect
import logging

import pytest

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.log.config import LogConfig
from cluster.broker.log.errors import InvalidBatchError
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.partition import Partition
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.protocol.records import Record as BatchRecord
from cluster.broker.protocol.records import build_batch
from cluster.broker.replica_driver import ReplicaLog
from cluster.broker.replication import CompleteProduce, FetchResponse, ReplicationConfig, SendFetch
from cluster.sim.replication.broker import memory_replica
from cluster.sim.replication.memory_log import MemoryLog, Record
from tests.log.disk import Disk

CONFIG = ReplicationConfig(min_insync_replicas=1, replica_fetch_wait_max_ms=10, replica_socket_timeout_ms=50)


def state(leader: int) -> PartitionState:
    return PartitionState(leader=leader, leader_epoch=1, isr=(leader,), controller_epoch=1, version=0)


def _positional_arity(method: object) -> int:
    return len(inspect.signature(method).parameters)  # type: ignore[arg-type]


@pytest.mark.parametrize("log_type", [Partition, MemoryLog])
def test_the_brokers_partition_and_the_simulators_log_are_both_a_replica_log(log_type: type) -> None:
    wanted = {name: member for name, member in vars(ReplicaLog).items() if inspect.isfunction(member)
              and not name.startswith("_")}
    assert wanted, "ReplicaLog lists the log's methods"
    for name, member in wanted.items():
        assert _positional_arity(getattr(log_type, name)) == _positional_arity(member), name


def test_a_batch_the_log_refuses_is_not_appended_and_the_core_learns_nothing(tmp_path) -> None:
    partition = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=0, replication=CONFIG)
    partition.driver.run(partition.replica.apply_state(state(0), (0,), 0), 0)
    corrupt = build_batch([BatchRecord(offset=0, timestamp=1_700_000_000_000, value=b"a")])
    corrupt[-1] ^= 0xFF
    with pytest.raises(InvalidBatchError):
        partition.driver.produce("bad", corrupt, 1, 1_000, now=1)
    assert partition.log.log_end_offset == 0
    good = build_batch([BatchRecord(offset=0, timestamp=1_700_000_000_000, value=b"b")])
    assert partition.driver.produce("good", good, 1, 1_000, now=2) == [CompleteProduce("good", ErrorCode.NONE, 0)]


def test_a_follower_change_the_log_refuses_is_logged_and_fetched_again_after_a_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    follower = memory_replica(2, MemoryLog(), CONFIG)
    [fetch] = follower.run(follower.replica.apply_state(state(1), (1, 2), 0), 0)
    assert isinstance(fetch, SendFetch) and fetch.request.fetch_offset == 0
    gap = FetchResponse(fetch.request.correlation, ErrorCode.NONE, 6, 0, 6, (Record(5, 1, 105),))
    with caplog.at_level(logging.ERROR, logger="cluster.broker.replica_driver"):
        assert follower.run(follower.replica.on_fetch_response(gap, 1), 1) == []
    assert "could not apply AppendAsFollower" in caplog.text and "fetching again after a backoff" in caplog.text
    assert follower.log.log_end_offset == 0
    assert follower.run(follower.replica.tick(1 + CONFIG.replica_fetch_backoff_ms - 1), 2) == [], "backing off"
    later = 1 + CONFIG.replica_fetch_backoff_ms
    [again] = follower.run(follower.replica.tick(later), later)
    assert isinstance(again, SendFetch) and again.request.fetch_offset == 0


def test_a_follower_whose_disk_is_full_backs_off_and_appends_once_space_returns(tmp_path, monkeypatch) -> None:
    follower = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=2, replication=CONFIG)
    [fetch] = follower.driver.run(follower.replica.apply_state(state(1), (1, 2), 0), 0)
    records = build_batch([BatchRecord(offset=0, timestamp=1_700_000_000_000, value=b"a")])
    records[12:16] = (1).to_bytes(4, "big")  # the leader's epoch, as a fetched batch carries it
    disk = Disk(tmp_path, budget=10).install(monkeypatch)

    answer = FetchResponse(fetch.request.correlation, ErrorCode.NONE, 1, 0, 1, bytes(records))
    assert follower.driver.run(follower.replica.on_fetch_response(answer, 1), 1) == []
    assert follower.log.log_end_offset == 0
    assert follower.driver.run(follower.replica.tick(CONFIG.replica_fetch_backoff_ms), 2) == []

    disk.heal()
    later = 1 + CONFIG.replica_fetch_backoff_ms
    [again] = follower.driver.run(follower.replica.tick(later), later)
    assert again.request.fetch_offset == 0
    answer = FetchResponse(again.request.correlation, ErrorCode.NONE, 1, 0, 1, bytes(records))
    [next_fetch] = follower.driver.run(follower.replica.on_fetch_response(answer, later), later)
    assert follower.log.log_end_offset == 1 and next_fetch.request.fetch_offset == 1
