"""The simulator's generic parts: virtual time, the faulty network, volatile disks, crashes."""

from __future__ import annotations

import functools
import random
from typing import Any

import pytest

from cluster.sim.world.disk import Disk
from cluster.sim.world.machines import Machine, World
from cluster.sim.world.network import Network, NetworkConditions
from cluster.sim.world.scheduler import Scheduler


def test_events_run_in_time_order_and_ties_in_scheduling_order() -> None:
    scheduler = Scheduler()
    seen: list[str] = []
    scheduler.at(5, seen.append, "late")
    scheduler.at(1, seen.append, "first")
    scheduler.at(1, seen.append, "second")
    scheduler.run_until(3)
    assert seen == ["first", "second"] and scheduler.now == 3
    scheduler.run_until(10)
    assert seen == ["first", "second", "late"]
    with pytest.raises(ValueError):
        scheduler.at(2, seen.append, "past")


def _network(conditions: NetworkConditions, seed: int = 1) -> tuple[Scheduler, Network, list[tuple[int, int, Any]]]:
    scheduler = Scheduler()
    received: list[tuple[int, int, Any]] = []
    network = Network(scheduler, random.Random(seed), conditions, lambda s, d, m: received.append((s, d, m)))
    return scheduler, network, received


def test_random_delays_reorder_messages() -> None:
    scheduler, network, received = _network(NetworkConditions(min_delay=1, max_delay=50))
    for n in range(20):
        network.send(1, 2, n)
    scheduler.run_until(100)
    assert sorted(m for _, _, m in received) == list(range(20))
    assert [m for _, _, m in received] != list(range(20))


def test_loss_and_duplication() -> None:
    scheduler, network, received = _network(NetworkConditions(loss=1.0))
    network.send(1, 2, "x")
    scheduler.run_until(100)
    assert received == []
    scheduler, network, received = _network(NetworkConditions(duplication=1.0))
    network.send(1, 2, "x")
    network.send(1, 2, "session", may_duplicate=False)
    scheduler.run_until(100)
    assert sorted(m for _, _, m in received) == ["session", "x", "x"]


def test_partitions_cut_messages_between_groups_even_in_flight() -> None:
    scheduler, network, received = _network(NetworkConditions(min_delay=10, max_delay=10))
    network.send(1, 3, "in flight")
    network.partition([[1, 2], [3]])
    network.send(1, 3, "blocked")
    network.send(1, 2, "same side")
    network.send(99, 3, "from a client in no group")
    scheduler.run_until(100)
    assert [m for _, _, m in received] == ["same side", "from a client in no group"]
    network.heal()
    network.send(1, 3, "healed")
    scheduler.run_until(200)
    assert received[-1][2] == "healed"


def test_disk_writes_are_volatile_until_their_sync_completes() -> None:
    scheduler = Scheduler()
    disk = Disk(scheduler, random.Random(1), min_sync=5, max_sync=5)
    done: list[str] = []
    disk.write("a", 1)
    assert disk.read("a") == 1
    disk.sync(lambda: done.append("synced"))
    disk.write("b", 2)  # after the sync was requested: not covered by it
    scheduler.run_until(10)
    assert done == ["synced"]
    disk.crash()
    assert disk.read("a") == 1 and disk.read("b") is None


def test_a_crash_during_sync_loses_the_writes_and_the_completion() -> None:
    scheduler = Scheduler()
    disk = Disk(scheduler, random.Random(1), min_sync=5, max_sync=5)
    done: list[str] = []
    disk.write("a", 1)
    disk.sync(lambda: done.append("synced"))
    scheduler.run_until(2)
    disk.crash()
    scheduler.run_until(10)
    assert done == [] and disk.read("a") is None


def test_syncs_complete_in_the_order_they_were_requested() -> None:
    scheduler = Scheduler()
    disk = Disk(scheduler, random.Random(3), min_sync=1, max_sync=50)
    done: list[int] = []
    for n in range(10):
        disk.write("v", n)
        disk.sync(functools.partial(done.append, n))
    scheduler.run_until(1000)
    assert done == list(range(10))
    disk.crash()
    assert disk.read("v") == 9


class _Counter:
    """A program that counts its boots on disk and ticks a timer."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.ticks = 0
        boots = machine.disk.read("boots", 0) + 1
        machine.disk.write("boots", boots)
        machine.disk.sync(lambda: None)
        machine.after(10, self._tick)

    def _tick(self) -> None:
        self.ticks += 1
        self.machine.after(10, self._tick)

    def receive(self, src: int, message: Any) -> None:
        self.machine.send(src, ("echo", message))


def test_a_crashed_machine_loses_its_timers_and_restarts_from_its_disk() -> None:
    world = World(seed=1, conditions=NetworkConditions())
    machine = world.add_machine(1, _Counter)
    machine.start()
    world.scheduler.run_until(55)
    first = machine.program
    assert isinstance(first, _Counter) and first.ticks == 5
    machine.crash()
    world.scheduler.run_until(200)
    assert first.ticks == 5
    machine.start()
    assert machine.disk.read("boots") == 2


def test_machines_and_clients_talk_through_the_network() -> None:
    world = World(seed=1, conditions=NetworkConditions())
    machine = world.add_machine(1, _Counter)
    machine.start()
    replies: list[Any] = []
    world.add_endpoint(100, lambda src, message: replies.append((src, message)))
    world.network.send(100, 1, "ping")
    world.scheduler.run_until(50)
    assert replies == [(1, ("echo", "ping"))]
    machine.crash()
    world.network.send(100, 1, "nobody home")
    world.scheduler.run_until(100)
    assert len(replies) == 1
