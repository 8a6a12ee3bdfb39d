"""A Raft keeper node in the simulator: the Ready loop over a simulated disk, plus a KV service.

This is the driver the core's contract asks for: persist and sync, then send, then apply, then
advance. Only one Ready is in flight at a time; messages and ticks keep stepping the core while
its sync is pending, as etcd's raft allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cluster.keeper.raft import Config, DurableState, Entry, Message, ProposalDropped, Raft, Ready, persisted
from cluster.sim.raft.kv import KVStore, Put
from cluster.sim.raft.kv_client import ClientReply, ClientRequest
from cluster.sim.raft.monitor import RaftSafetyMonitor
from cluster.sim.world.machines import Machine

CoreFactory = Callable[..., Raft]
"""Builds the core: `(config, rng, durable) -> Raft`. Tests pass deliberately broken subclasses."""


@dataclass(frozen=True, slots=True)
class NodeSettings:
    peers: tuple[int, ...]
    tick: int
    election_ticks: int
    heartbeat_ticks: int
    max_append_entries: int
    compact_every: int


class RaftNode:
    def __init__(self, machine: Machine, settings: NodeSettings, monitor: RaftSafetyMonitor, core: CoreFactory) -> None:
        self._machine = machine
        self._settings = settings
        self._monitor = monitor
        durable: DurableState = machine.disk.read("raft", DurableState())
        config = Config(
            machine.id, settings.peers, settings.election_ticks, settings.heartbeat_ticks, settings.max_append_entries
        )
        self.raft = core(config, machine.rng, durable)
        self.kv = KVStore.from_snapshot(durable.snapshot.data)
        self.applied = durable.snapshot.index
        monitor.on_state_loaded(machine.id, self.applied)
        self._syncing = False
        self._writes: dict[int, tuple[int, str, int]] = {}
        self._reads: dict[bytes, tuple[int, ClientRequest]] = {}
        self._ready_reads: list[tuple[int, int, ClientRequest]] = []
        machine.after(machine.rng.randint(1, settings.tick), self._tick)

    def receive(self, src: int, message: Any) -> None:
        if isinstance(message, Message):
            self.raft.step(message)
        else:
            self._serve(src, message)
        self._pump()

    def transfer_leadership(self, target: int) -> None:
        """An operator's request; a node that is no longer the leader ignores it."""
        try:
            self.raft.transfer_leadership(target)
        except ProposalDropped:
            return
        self._pump()

    def _tick(self) -> None:
        self.raft.tick()
        self._pump()
        self._machine.after(self._settings.tick, self._tick)

    def _serve(self, client: int, request: ClientRequest) -> None:
        try:
            if request.kind == "put":
                assert request.value is not None
                entry = self.raft.propose(Put(request.op_id, request.key, request.value).encode())
                self._writes[entry.index] = (entry.term, request.op_id, client)
            else:
                context = request.op_id.encode()
                self.raft.read_index(context)
                self._reads[context] = (client, request)
        except ProposalDropped as dropped:
            self._machine.send(client, ClientReply(request.op_id, ok=False, leader_hint=dropped.leader))

    def _pump(self) -> None:
        if self._syncing or not self.raft.has_ready():
            return
        ready = self.raft.ready()
        if ready.soft_state is not None:
            self._monitor.on_role(self._machine.id, ready.soft_state, self.raft.log, self._machine.world.scheduler.now)
        if ready.must_sync:
            disk = self._machine.disk
            disk.write("raft", persisted(disk.read("raft", DurableState()), ready))
            self._syncing = True
            disk.sync(lambda: self._finish(ready))
        else:
            self._finish(ready)

    def _finish(self, ready: Ready) -> None:
        self._syncing = False
        send = self._machine.send
        for message in ready.messages:
            send(message.dst, message)
        if ready.snapshot is not None and ready.snapshot.index > self.applied:
            self.kv = KVStore.from_snapshot(ready.snapshot.data)
            self.applied = ready.snapshot.index
            self._monitor.on_state_loaded(self._machine.id, self.applied)
        for entry in ready.committed_entries:
            self._apply(entry)
        for read in ready.read_states:
            waiting = self._reads.pop(read.context, None)
            if waiting is not None:
                self._ready_reads.append((read.index, *waiting))
        self._answer_reads()
        self.raft.advance()
        if self.applied - self.raft.log.snapshot.index >= self._settings.compact_every:
            self.raft.compact(self.applied, self.kv.snapshot())
        self._pump()

    def _apply(self, entry: Entry) -> None:
        self._monitor.on_apply(self._machine.id, entry, self._machine.world.scheduler.now)
        self.applied = entry.index
        if entry.data:
            self.kv.apply(entry.data)
        waiting = self._writes.pop(entry.index, None)
        if waiting is not None:
            term, op_id, client = waiting
            # (index, term) names one entry: another term here means ours never committed.
            self._machine.send(client, ClientReply(op_id, ok=term == entry.term, index=entry.index))

    def _answer_reads(self) -> None:
        still_waiting = []
        for index, client, request in self._ready_reads:
            if index <= self.applied:
                self._machine.send(client, ClientReply(request.op_id, ok=True, value=self.kv.get(request.key)))
            else:
                still_waiting.append((index, client, request))
        self._ready_reads = still_waiting

