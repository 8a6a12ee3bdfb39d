"""Constructed schedules in which Kafka's replication is known to lose acknowledged writes.

They exist so that the checks are known to be able to see a loss: with acks=1, a leader cut off
before its followers fetched keeps acknowledging writes that its successor never had; with
unclean election, an out-of-sync replica becomes leader and committed writes vanish. The same
unclean schedule under clean election loses nothing: the partition waits offline instead.
"""

from __future__ import annotations

from cluster.sim.replication.cluster import KEEPER, ClusterSettings, ReplicationCluster
from cluster.sim.world.network import NetworkConditions

CALM = NetworkConditions(min_delay=1, max_delay=5)
SETTLE = 2_000


class ScenarioError(RuntimeError):
    """The schedule did not reach the situation it constructs: the scenario itself is broken."""


def _started(seed: int, settings: ClusterSettings) -> ReplicationCluster:
    cluster = ReplicationCluster(seed, settings, CALM)
    cluster.start()
    if not cluster.converge(SETTLE):
        raise ScenarioError("the cluster did not come up in sync")
    return cluster


def _expire_sessions(cluster: ReplicationCluster) -> None:
    cluster.run_until(cluster.world.scheduler.now + 2 * cluster.settings.session_timeout + 100)


def _heal_and_check(cluster: ReplicationCluster) -> ReplicationCluster:
    cluster.world.network.heal()
    cluster.stop_producers()
    if not cluster.converge(SETTLE):
        raise ScenarioError("the cluster did not converge after the heal")
    cluster.check_final()
    return cluster


def acks_one_leader_cut_off_before_followers_fetch(seed: int) -> ReplicationCluster:
    """The leader is cut off from followers and keeper; producers still reach it and use acks=1."""
    cluster = _started(seed, ClusterSettings())
    leader = cluster.leader_of(0)
    cluster.world.network.partition([[leader], [b for b in cluster.brokers if b != leader] + [KEEPER]])
    cluster.add_producer((1,)).run(stop_at=cluster.world.scheduler.now + 60)
    _expire_sessions(cluster)
    if cluster.leader_of(0) in (leader, -1):
        raise ScenarioError("no new leader was elected")
    return _heal_and_check(cluster)


def committed_writes_then_out_of_sync_replica_elected(seed: int, unclean: bool) -> ReplicationCluster:
    """Replica 3 falls out of the ISR; acks=all writes commit on {1, 2}; then 1 and 2 are cut off
    while 3 reaches the keeper."""
    cluster = _started(seed, ClusterSettings(unclean=unclean))
    cluster.world.network.partition([[3], [1, 2, KEEPER]])
    _expire_sessions(cluster)
    if 3 in cluster.keeper.states[0].isr:
        raise ScenarioError("replica 3 did not leave the ISR")
    cluster.add_producer((-1,)).run(stop_at=cluster.world.scheduler.now + 60)
    cluster.run_until(cluster.world.scheduler.now + 400)
    cluster.world.network.partition([[1, 2], [3, KEEPER]])
    _expire_sessions(cluster)
    if cluster.leader_of(0) != (3 if unclean else -1):
        raise ScenarioError(f"expected {'3' if unclean else 'no one'} to lead, not {cluster.leader_of(0)}")
    return _heal_and_check(cluster)
