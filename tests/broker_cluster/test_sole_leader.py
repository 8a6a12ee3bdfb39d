"""What the replication core does when a broker (re)becomes leader, as Kafka's makeLeader does.

A leader whose ISR is itself alone commits what its log holds at once; one elected again in a
new epoch keeps its waiting acks=all writes.
"""

from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.replication import CompleteProduce, PartitionReplica, ReplicationConfig
from cluster.sim.replication.memory_log import MemoryLog
from tests.replication.wiring import CONFIG, Wiring, state


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


def test_a_leader_elected_again_in_a_new_epoch_keeps_its_waiting_acks_all_writes() -> None:
    wiring = Wiring()
    wiring.apply(state(1, 0, (1, 2, 3), version=0))
    wiring.cut = {2, 3}
    wiring.produce(1, "waiting", 7, acks=-1)
    wiring.apply(state(1, 1, (1, 2, 3), version=1))  # e.g. the controller bumped the epoch shrinking an ISR
    assert "waiting" not in wiring.completed, "the write is in the log and may still commit"
    wiring.cut = set()
    wiring.advance(wiring.now + CONFIG.replica_socket_timeout_ms)
    assert wiring.completed["waiting"] == CompleteProduce("waiting", ErrorCode.NONE, 0)


def test_a_write_carried_into_an_epoch_below_min_isr_learns_it_after_append() -> None:
    wiring = Wiring()
    wiring.apply(state(1, 0, (1, 2, 3), version=0))
    wiring.cut = {2, 3}
    wiring.produce(1, "waiting", 7, acks=-1)
    wiring.apply(state(1, 1, (1,), version=1))
    assert wiring.completed["waiting"] == CompleteProduce("waiting", ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)
