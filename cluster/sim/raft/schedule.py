"""One seeded schedule of a simulated Raft cluster under faults, and its verdict.

Everything a schedule does (cluster size, network odds, fault timeline, client operations) is
drawn from one `random.Random(seed)`, so a seed replays exactly. A schedule has three phases:
faults with clients running; heal and wait (bounded) for the cluster to make progress again;
quiesce and check the logs and the clients' history.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cluster.keeper.raft import Raft, RaftLog
from cluster.sim.raft.faults import RaftFaults
from cluster.sim.raft.kv_client import History, KVClient
from cluster.sim.raft.kv_linearizability import check_kv_history
from cluster.sim.raft.monitor import RaftSafetyMonitor
from cluster.sim.raft.node import CoreFactory, NodeSettings, RaftNode
from cluster.sim.raft.transfers import LeadershipTransfers
from cluster.sim.world.machines import Machine, World
from cluster.sim.world.network import NetworkConditions

_CHECK_EVERY = 50
"""Virtual milliseconds between checks of the logs (log matching) and of recovery."""

LinearizabilityCheck = Callable[[History], str | None]
"""Returns why a history is not linearizable, or None when it is."""


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    nodes: int
    conditions: NetworkConditions
    clients: int
    compact_every: int
    max_append_entries: int
    fault_gap: int
    transfer_gap: int
    max_sync: int
    tick: int = 10
    election_ticks: int = 10
    heartbeat_ticks: int = 2
    fault_phase: int = 2_000
    liveness_bound: int = 4_000
    client_timeout: int = 300

    @staticmethod
    def draw(rng: random.Random) -> ScheduleSettings:
        return ScheduleSettings(
            nodes=rng.choice((1, 3, 3, 3, 5)),
            conditions=NetworkConditions(
                min_delay=1,
                max_delay=rng.choice((5, 10, 30)),
                loss=rng.choice((0.0, 0.01, 0.1, 0.3)),
                duplication=rng.choice((0.0, 0.05)),
            ),
            clients=rng.randint(1, 4),
            compact_every=rng.choice((4, 16, 64)),
            max_append_entries=rng.choice((1, 3, 64)),
            fault_gap=rng.choice((50, 200, 500)),
            transfer_gap=rng.choice((0, 300, 1000)),
            max_sync=rng.choice((2, 10, 40)),
        )


@dataclass(slots=True)
class ScheduleResult:
    seed: int
    settings: ScheduleSettings
    history: History
    violations: list[str] = field(default_factory=list)
    timeline: list[tuple[int, str]] = field(default_factory=list)
    events: int = 0
    virtual_time: int = 0

    def describe(self, replay: str) -> str:
        faults = ", ".join(f"{t}:{what}" for t, what in self.timeline[-12:])
        return (
            f"seed {self.seed} failed: " + "; ".join(self.violations[:5])
            + f"\n  settings: {self.settings}\n  last faults: {faults}\n  replay: {replay}"
        )


def run_schedule(
    seed: int, core: CoreFactory = Raft, linearizable: LinearizabilityCheck = check_kv_history
) -> ScheduleResult:
    rng = random.Random(seed)
    settings = ScheduleSettings.draw(rng)
    world = World(seed, settings.conditions, min_sync=1, max_sync=settings.max_sync)
    monitor = RaftSafetyMonitor()
    peers = tuple(range(1, settings.nodes + 1))
    node_settings = NodeSettings(
        peers,
        settings.tick,
        settings.election_ticks,
        settings.heartbeat_ticks,
        settings.max_append_entries,
        settings.compact_every,
    )

    def boot(machine: Machine) -> RaftNode:
        return RaftNode(machine, node_settings, monitor, core)

    machines = [world.add_machine(peer, boot) for peer in peers]
    history = History()
    clients = [
        KVClient(
            world,
            101 + n,
            peers,
            history,
            keys=2,
            timeout=settings.client_timeout,
            think=20,
            rng=random.Random(rng.getrandbits(64)),
        )
        for n in range(settings.clients)
    ]
    faults = RaftFaults(world, peers, random.Random(rng.getrandbits(64)), settings.fault_gap, max_down=400)
    result = ScheduleResult(seed, settings, history, monitor.violations, faults.timeline)
    if settings.transfer_gap and settings.nodes > 1:
        transfers = LeadershipTransfers(
            world, machines, random.Random(rng.getrandbits(64)), settings.transfer_gap, faults.timeline
        )
        transfers.run(until=settings.fault_phase)
    try:
        _play(world, machines, clients, faults, settings, monitor, history)
    except AssertionError as error:  # the core's own invariant checks (LogInvariantError)
        monitor.violations.append(f"invariant: {error!r} at {traceback.format_exc(limit=-3)}")
    result.events = world.scheduler.events_run
    result.virtual_time = world.scheduler.now
    if not monitor.violations:
        problem = linearizable(history)
        if problem:
            monitor.violations.append(f"linearizability: {problem}")
    return result


def _play(
    world: World,
    machines: list[Machine],
    clients: list[KVClient],
    faults: RaftFaults,
    settings: ScheduleSettings,
    monitor: RaftSafetyMonitor,
    history: History,
) -> None:
    scheduler = world.scheduler
    for machine in machines:
        machine.start()
    stop_clients = settings.fault_phase + settings.liveness_bound
    for client in clients:
        client.run(stop_at=stop_clients)
    faults.run(until=settings.fault_phase)
    while scheduler.now < settings.fault_phase:
        scheduler.run_until(min(scheduler.now + _CHECK_EVERY, settings.fault_phase))
        monitor.check_log_matching({m.id: _log(m) for m in machines if m.alive})
    faults.heal_all()
    world.network.conditions = replace(settings.conditions, loss=0.0, duplication=0.0)
    healed = scheduler.now
    deadline = healed + settings.liveness_bound
    while not _recovered(machines, history, healed) and scheduler.now < deadline:
        scheduler.run_until(scheduler.now + _CHECK_EVERY)
    if not _recovered(machines, history, healed):
        monitor.violations.append(
            f"liveness: no write invoked after the heal at t={healed} committed on every node by t={deadline}"
        )
    for client in clients:
        client.stop()
    scheduler.run_until(scheduler.now + settings.client_timeout + 1)
    monitor.check_log_matching({m.id: _log(m) for m in machines})


def _recovered(machines: list[Machine], history: History, healed: int) -> bool:
    put = history.first_put_after(healed)
    return put is not None and all(_node(m).applied >= put.index for m in machines)


def _node(machine: Machine) -> RaftNode:
    assert isinstance(machine.program, RaftNode)
    return machine.program


def _log(machine: Machine) -> RaftLog:
    return _node(machine).raft.log
