"""A simulated replicated topic: brokers, the keeper with its controller, producers and the checks.

Both the seeded random schedules and the constructed ones drive this: start it, let time pass
(checking the in-sync prefixes as it goes), inject faults, heal, wait for the cluster to
converge, and check the final logs against what producers were told.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cluster.broker.controller.election import assign_replicas
from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState
from cluster.broker.replication import PartitionReplica, ReplicationConfig, Role
from cluster.sim.replication.broker import BrokerSettings, ReplicaCore, SimBroker
from cluster.sim.replication.client import Producer, WriteHistory
from cluster.sim.replication.keeper import KeeperController, KeeperSettings
from cluster.sim.replication.memory_log import MemoryLog
from cluster.sim.replication.monitor import ReplicaView, ReplicationMonitor
from cluster.sim.world.machines import Machine, World
from cluster.sim.world.network import NetworkConditions

KEEPER = 10
FIRST_PRODUCER = 101
CHECK_EVERY = 25


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    brokers: int = 3
    replication_factor: int = 3
    partitions: int = 1
    min_insync_replicas: int = 2
    unclean: bool = False
    session_timeout: int = 150
    flush_every: int = 200
    retention_every: int = 0
    replica_lag_time_max_ms: int = 200
    produce_timeout: int = 300


class ReplicationCluster:
    def __init__(
        self, seed: int, settings: ClusterSettings, conditions: NetworkConditions, core: ReplicaCore = PartitionReplica
    ) -> None:
        self.settings = settings
        self.world = World(seed, conditions)
        self.rng = random.Random(self.world.rng.getrandbits(64))
        self.brokers = tuple(range(1, settings.brokers + 1))
        self.partitions = tuple(range(settings.partitions))
        self.assignment = assign_replicas(self.brokers, settings.partitions, settings.replication_factor)
        self.monitor = ReplicationMonitor(unclean=settings.unclean)
        self.history = WriteHistory()
        self.keeper = KeeperController(
            self.world,
            KEEPER,
            self.assignment,
            KeeperSettings(settings.session_timeout, settings.unclean),
            self._stored,
            self.membership_changed,
        )
        replication = ReplicationConfig(
            min_insync_replicas=settings.min_insync_replicas,
            replica_lag_time_max_ms=settings.replica_lag_time_max_ms,
            replica_fetch_wait_max_ms=20,
            replica_fetch_backoff_ms=30,
            replica_socket_timeout_ms=100,
            isr_update_timeout_ms=100,  # over a round trip (at most 60 ms): copies of a write cannot cross
        )
        broker_settings = BrokerSettings(
            KEEPER,
            self.partitions,
            replication,
            core,
            flush_every=settings.flush_every,
            retention_every=settings.retention_every,
        )

        def boot(machine: Machine) -> SimBroker:
            return SimBroker(machine, broker_settings, self.monitor)

        self.machines = {broker: self.world.add_machine(broker, boot) for broker in self.brokers}
        self.producers: list[Producer] = []

    def add_producer(self, acks_choices: tuple[int, ...], think: int = 10) -> Producer:
        producer = Producer(
            self.world,
            FIRST_PRODUCER + len(self.producers),
            self.partitions,
            acks_choices,
            self.leader_of,
            self.history,
            random.Random(self.rng.getrandbits(64)),
            self.settings.produce_timeout,
            think,
        )
        self.producers.append(producer)
        return producer

    def leader_of(self, partition: int) -> int:
        state = self.keeper.states.get(partition)
        return state.leader if state is not None else NO_LEADER

    @property
    def up(self) -> list[int]:
        """Brokers running and registered: what Kafka's controller calls alive."""
        return [broker for broker, machine in self.machines.items() if machine.alive and broker in self.keeper.live]

    def _stored(self, partition: int, state: PartitionState) -> None:
        self.monitor.state_stored(partition, state, self.up, self.world.scheduler.now)

    def membership_changed(self) -> None:
        self.monitor.brokers_up(self.up, self.world.scheduler.now)

    def start(self) -> None:
        for machine in self.machines.values():
            machine.start()

    def program(self, broker: int) -> SimBroker | None:
        program = self.machines[broker].program
        return program if isinstance(program, SimBroker) else None

    # --- running -------------------------------------------------------------------------------

    def run_until(self, time: int) -> None:
        scheduler = self.world.scheduler
        while scheduler.now < time:
            scheduler.run_until(min(scheduler.now + CHECK_EVERY, time))
            self.check_prefixes()

    def check_prefixes(self) -> None:
        for partition in self.partitions:
            state = self.keeper.states.get(partition)
            if state is not None:
                self.monitor.check_prefixes(partition, state.leader_epoch, self._views(partition))

    def _views(self, partition: int) -> list[ReplicaView]:
        views = []
        for broker in self.brokers:
            program = self.program(broker)
            if program is None:
                continue
            driver = program.drivers[partition]
            replica = driver.replica
            views.append(
                ReplicaView(
                    broker, driver.log, replica.role == Role.LEADER, replica.leader_epoch,
                    replica.high_watermark, replica.isr, replica.truncated,
                )
            )
        return views

    def stop_producers(self) -> None:
        for producer in self.producers:
            producer.stop()

    def converge(self, bound: int) -> bool:
        """Runs until every replica is in sync and holds the leader's records (True), or `bound` passes.

        Logs may start at different offsets: retention deletes only on the leader."""
        deadline = self.world.scheduler.now + bound
        while not self.converged():
            if self.world.scheduler.now >= deadline:
                return False
            self.run_until(self.world.scheduler.now + CHECK_EVERY)
        return True

    def converged(self) -> bool:
        return all(self._partition_converged(partition) for partition in self.partitions)

    def _partition_converged(self, partition: int) -> bool:
        state = self.keeper.states.get(partition)
        if state is None or state.leader == NO_LEADER or set(state.isr) != set(self.assignment[partition]):
            return False
        leader = self.program(state.leader)
        if leader is None:
            return False
        replica = leader.drivers[partition].replica
        log = leader.drivers[partition].log
        if replica.role != Role.LEADER or replica.leader_epoch != state.leader_epoch:
            return False
        if replica.high_watermark != log.log_end_offset:
            return False
        for broker in self.assignment[partition]:
            program = self.program(broker)
            if program is None:
                return False
            other = program.drivers[partition].log
            start = max(other.log_start_offset, log.log_start_offset)
            if other.log_end_offset != log.log_end_offset or other.read(start, log.log_end_offset) != log.read(
                start, log.log_end_offset
            ):
                return False
        return True

    def final_logs(self) -> dict[int, MemoryLog]:
        logs = {}
        for partition in self.partitions:
            leader = self.program(self.leader_of(partition)) if self.leader_of(partition) != NO_LEADER else None
            logs[partition] = leader.drivers[partition].log if leader is not None else MemoryLog()
        return logs

    def check_final(self) -> None:
        self.monitor.check_final_logs(self.final_logs(), self.history.writes)
