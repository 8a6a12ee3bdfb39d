"""A leader whose ISR is itself alone commits what its log holds as soon as it leads (Kafka's makeLeader)."""

from cluster.broker.controller.partition_state import PartitionState
from cluster.broker.replication import PartitionReplica, ReplicationConfig
from cluster.sim.replication_log import MemoryLog


def test_a_restarted_sole_replica_serves_its_log_without_waiting_for_a_write() -> None:
    log = MemoryLog()
    for value in (1, 2, 3):
        log.append_as_leader(value, 0)
    replica = PartitionReplica(1, log, ReplicationConfig())
    replica.apply_state(PartitionState(leader=1, leader_epoch=1, isr=(1,), controller_epoch=1, version=0), (1, 2), 0)
    assert replica.high_watermark == 3
    assert replica.consumer_fetch(0).read_to == 3


def test_a_leader_with_followers_in_its_isr_waits_for_their_fetches() -> None:
    log = MemoryLog()
    log.append_as_leader(1, 0)
    replica = PartitionReplica(1, log, ReplicationConfig())
    replica.apply_state(PartitionState(leader=1, leader_epoch=1, isr=(1, 2), controller_epoch=1, version=0), (1, 2), 0)
    assert replica.high_watermark == 0


def test_below_min_isr_even_a_sole_leader_commits_nothing() -> None:
    log = MemoryLog()
    log.append_as_leader(1, 0)
    replica = PartitionReplica(1, log, ReplicationConfig(min_insync_replicas=2))
    replica.apply_state(PartitionState(leader=1, leader_epoch=1, isr=(1,), controller_epoch=1, version=0), (1, 2), 0)
    assert replica.high_watermark == 0
