"""The simulated world: machines that crash and restart, endpoints, one scheduler, one network."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from cluster.sim.world.disk import Disk
from cluster.sim.world.network import Network, NetworkConditions
from cluster.sim.world.scheduler import Scheduler


class Program(Protocol):
    """What runs on a machine; a fresh one is built from the disk at every (re)start."""

    def receive(self, src: int, message: Any) -> None: ...


class Machine:
    """A node's hardware: an id, a disk, a network port, and timers that die with the process."""

    def __init__(self, world: World, node_id: int, boot: Callable[[Machine], Program], disk: Disk) -> None:
        self.world = world
        self.id = node_id
        self.disk = disk
        self._boot = boot
        self.alive = False
        self._incarnation = 0
        self.program: Program | None = None
        self.rng: random.Random
        """Drawn from the world's seed at every start, for the program to use."""

    def start(self) -> None:
        self.alive = True
        self._incarnation += 1
        self.rng = random.Random(self.world.rng.getrandbits(64))
        self.program = self._boot(self)

    def crash(self) -> None:
        self.alive = False
        self._incarnation += 1
        self.program = None
        self.disk.crash()

    def send(self, dst: int, message: Any) -> None:
        self.world.network.send(self.id, dst, message)

    def after(self, delay: int, callback: Callable[..., None], *args: Any) -> None:
        """A timer of the current process: it never fires once the machine crashed."""
        self.world.scheduler.after(delay, self._fire, self._incarnation, callback, args)

    def _fire(self, incarnation: int, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        if incarnation == self._incarnation:
            callback(*args)

    def receive(self, src: int, message: Any) -> None:
        if self.program is not None:
            self.program.receive(src, message)


class World:
    def __init__(self, seed: int, conditions: NetworkConditions, min_sync: int = 1, max_sync: int = 5) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.scheduler = Scheduler()
        self.network = Network(self.scheduler, random.Random(self.rng.getrandbits(64)), conditions, self._deliver)
        self._min_sync = min_sync
        self._max_sync = max_sync
        self.machines: dict[int, Machine] = {}
        self._endpoints: dict[int, Callable[[int, Any], None]] = {}

    def add_machine(self, node_id: int, boot: Callable[[Machine], Program]) -> Machine:
        disk = Disk(self.scheduler, random.Random(self.rng.getrandbits(64)), self._min_sync, self._max_sync)
        machine = Machine(self, node_id, boot, disk)
        self.machines[node_id] = machine
        self.add_endpoint(node_id, machine.receive)
        return machine

    def add_endpoint(self, endpoint_id: int, receive: Callable[[int, Any], None]) -> None:
        """Something that is not a machine but talks over the network (a client)."""
        if endpoint_id in self._endpoints:
            raise ValueError(f"endpoint {endpoint_id} exists")
        self._endpoints[endpoint_id] = receive

    def _deliver(self, src: int, dst: int, message: Any) -> None:
        self._endpoints[dst](src, message)
