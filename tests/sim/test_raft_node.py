"""The simulator's Raft driver honours the Ready contract: nothing that depends on a write
leaves the node before the write is durable, and a crash loses what was not synced."""

from __future__ import annotations

from typing import Any

from cluster.keeper.raft import HardState, MessageType, Raft, Role
from cluster.sim.raft.monitor import RaftSafetyMonitor
from cluster.sim.raft.node import NodeSettings, RaftNode
from cluster.sim.world.machines import Machine, World
from cluster.sim.world.network import NetworkConditions

SLOW_SYNC = 1_000


def _cluster(sync: int) -> tuple[World, list[Machine]]:
    world = World(seed=3, conditions=NetworkConditions(min_delay=1, max_delay=2), min_sync=sync, max_sync=sync)
    settings = NodeSettings(
        (1, 2, 3), tick=10, election_ticks=10, heartbeat_ticks=2, max_append_entries=64, compact_every=64
    )
    monitor = RaftSafetyMonitor()
    machines = [world.add_machine(n, lambda m: RaftNode(m, settings, monitor, Raft)) for n in (1, 2, 3)]
    for machine in machines:
        machine.start()
    return world, machines


def _node(machine: Machine) -> RaftNode:
    assert isinstance(machine.program, RaftNode)
    return machine.program


def test_vote_requests_wait_for_the_candidates_term_and_vote_to_be_durable() -> None:
    world, machines = _cluster(sync=SLOW_SYNC)
    sent: list[tuple[int, MessageType]] = []
    send = world.network.send

    def recording_send(src: int, dst: int, message: Any, **options: Any) -> None:
        sent.append((world.scheduler.now, message.type))
        send(src, dst, message, **options)

    world.network.send = recording_send  # type: ignore[method-assign]
    world.scheduler.run_until(SLOW_SYNC - 1)
    assert MessageType.PRE_VOTE in {kind for _, kind in sent}, "pre-votes need no write and go at once"
    assert MessageType.VOTE not in {kind for _, kind in sent}
    assert any(_node(m).raft.term == 1 for m in machines)
    for machine in machines:
        machine.crash()
        machine.start()
        assert _node(machine).raft.hard_state == HardState(), "an unsynced term or vote survived the crash"
    world.scheduler.run_until(3 * SLOW_SYNC)
    assert MessageType.VOTE in {kind for t, kind in sent if t >= SLOW_SYNC}


def test_with_fast_disks_the_same_cluster_elects_a_leader() -> None:
    world, machines = _cluster(sync=2)
    world.scheduler.run_until(SLOW_SYNC - 100)
    assert sum(_node(m).raft.role is Role.LEADER for m in machines) == 1
