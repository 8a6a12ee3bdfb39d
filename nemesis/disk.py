"""Disk faults through each node's fault filesystem (cluster.faultfs), on every node kind and both backends.

- slow-disk, disk-error, disk-full: start puts a DiskFaults in force on the targets' filesystems
  (delays, as IOChaos's latency; EIO, as its fault; ENOSPC past a byte budget); stop clears it, then
  starts any target that stopped meanwhile (a broker halts when its last log directory fails, a
  keeper and ZooKeeper fail-stop) and waits until it serves again.
- lose-unsynced, torn-write: a power loss, LazyFS's clear-cache. start SIGKILLs every target first,
  then throws away what each one's filesystem holds unsynced (torn-write: each file's last unsynced
  write survives as a random-length prefix, a torn page); stop starts them again, the power back.
  On all of the brokers (all, all-brokers) or all keepers it is a correlated power loss.
- corrupt-file: Jepsen's file corruption. start SIGKILLs the targets and corrupts one file of the
  chosen kind in each one's data directory (corruption.py), through the fault filesystem when there
  is one and in the plain directory otherwise; stop starts them again.

Every ok value is {"nodes", "action"} plus what the report shows: "faults" (the DiskFaults put in
force), "lost" ({node: LossReport}) or "corrupted" ([{"node", "path", "kind", "how", "offsets" |
"bytes"}]). Targets, claims and heal are the process faults' (process.py): a node held by one fault
is not chosen by another.
"""

from __future__ import annotations

from operator import methodcaller
from pathlib import Path
from typing import Any

from cluster.deploy.node import NodeError
from cluster.faultfs import DiskControl, DiskFaults
from harness.seams import Deployment, Node
from nemesis.base import NemesisError
from nemesis.corruption import HINTS, ROLE_OF_KIND, corrupt, files_of_kind
from nemesis.disk_options import DiskOptions
from nemesis.process import Action, Claims, FaultKind, ProcessFault

IN_FORCE = ("slow-disk", "disk-error", "disk-full")
POWER_LOSS = ("lose-unsynced", "torn-write")
CORRUPT_FILE = "corrupt-file"
FUSE_FAULTS = IN_FORCE + POWER_LOSS
"""The faults that need every node's data directory on a fault filesystem."""
FAULTS = FUSE_FAULTS + (CORRUPT_FILE,)

_SEED_RANGE = 2**32
_KILL = Action("SIGKILL", methodcaller("kill"))
_START = Action("start", methodcaller("start"))


def disk_of(node: Node) -> DiskControl:
    if node.disk is None:
        raise NemesisError(f"{node.name}'s data directory is not on a fault filesystem: "
                           f"the cluster must be deployed with fault disks")
    return node.disk


class _FuseFault(ProcessFault):
    """A disk fault that acts through the nodes' fault filesystems, which every node must then have."""

    def __init__(self, kind: FaultKind, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 disk_options: DiskOptions) -> None:
        super().__init__(kind, deployment, options, claims)
        self.disk_options = disk_options
        bare = [node.name for node in deployment.nodes if node.disk is None]
        if bare:
            raise NemesisError(f"the {kind.name} fault needs every node's data directory on a fault filesystem, "
                               f"and {', '.join(bare)} has none: deploy the cluster with fault disks")


class FaultsInForce(_FuseFault):
    """slow-disk, disk-error, disk-full: a DiskFaults in force on the targets until stop."""

    def __init__(self, name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 disk_options: DiskOptions) -> None:
        kind = FaultKind(name, Action("set-faults", self._set), Action("clear-faults", self._clear))
        super().__init__(kind, deployment, options, claims, disk_options)
        self._faults = DiskFaults()
        self._stopped: list[Node] = []

    def _faults_to_set(self) -> DiskFaults:
        if self.kind.name == "slow-disk":
            return self.disk_options.slow()
        if self.kind.name == "disk-error":
            return self.disk_options.errors(self.rng.randrange(_SEED_RANGE))
        return self.disk_options.full()

    def _start(self, value: Any) -> dict[str, Any]:
        self._faults = self._faults_to_set()
        return {**super()._start(value), "faults": self._faults.to_dict()}

    def _stop(self) -> dict[str, Any]:
        self._stopped = []
        undone = super()._stop()
        restarted = [node.name for node in self._stopped]
        for node in self._stopped:
            try:
                node.wait_serving(self.heal_timeout)
            except NodeError as error:
                raise NemesisError(f"{self.kind.name} cleared, but {node.name}, started again, "
                                   f"does not serve: {error}") from error
        return {**undone, "restarted": restarted}

    def _set(self, node: Node) -> None:
        disk_of(node).set_faults(self._faults)

    def _clear(self, node: Node) -> None:
        """The fault goes; a node it stopped (a failed log directory, a failed fsync) is started again."""
        disk_of(node).clear_faults()
        if not node.is_running():
            node.start()
            self._stopped.append(node)


class PowerLoss(_FuseFault):
    """lose-unsynced and torn-write: every target loses power at once, and gets it back at stop."""

    def __init__(self, name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 disk_options: DiskOptions) -> None:
        super().__init__(FaultKind(name, _KILL, _START), deployment, options, claims, disk_options)
        self.torn = name == "torn-write"

    def _start(self, value: Any) -> dict[str, Any]:
        done = super()._start(value)
        lost = {}
        for name in done["nodes"]:
            lost[name] = self._lose_unsynced(self.deployment.node(name))
        return {**done, "action": "power-loss", "lost": lost}

    def _lose_unsynced(self, node: Node) -> dict[str, Any]:
        try:
            report = disk_of(node).lose_unsynced(torn=self.torn, seed=self.rng.randrange(_SEED_RANGE))
        except Exception as error:
            raise NemesisError(f"{node.name} was killed, but its unsynced writes could not be thrown away: "
                               f"{error}") from error
        return report.to_dict()


class FileCorruption(ProcessFault):
    """corrupt-file: each target is stopped with one file of the chosen kind corrupted, until stop."""

    def __init__(self, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 disk_options: DiskOptions) -> None:
        super().__init__(FaultKind(CORRUPT_FILE, _KILL, _START), deployment, options, claims)
        self.disk_options = disk_options

    def _start(self, value: Any) -> dict[str, Any]:
        """Nothing is stopped unless every target has a file of its kind; the file is chosen once it is stopped."""
        nodes = self.targets(value)
        kinds = {node.name: self._kind_for(node) for node in nodes}
        for node in nodes:
            self._files(node, kinds[node.name])
        done = super()._start([node.name for node in nodes])
        corrupted = [self._corrupt(node, kinds[node.name]) for node in nodes]
        return {**done, "action": "corrupt", "corrupted": corrupted}

    def _kind_for(self, node: Node) -> str:
        kind = self.disk_options.corrupt_kind(node.role)
        if ROLE_OF_KIND[kind] != node.role:
            raise NemesisError(f"{node.name} is a {node.role}: it keeps no {kind} files, a {ROLE_OF_KIND[kind]}'s")
        return kind

    def _files(self, node: Node, kind: str) -> list[Path]:
        files = files_of_kind(node.data_directory, kind)
        if not files:
            hint = f" ({HINTS[kind]})" if kind in HINTS else ""
            raise NemesisError(f"{node.name} has no {kind} file to corrupt in {node.data_directory}{hint}")
        return files

    def _corrupt(self, node: Node, kind: str) -> dict[str, Any]:
        path = self.rng.choice(self._files(node, kind))
        options = self.disk_options
        amount = options.bitflips if options.corrupt_mode == "bitflip" else options.truncate_bytes
        how = corrupt(node.data_directory / path, options.corrupt_mode, amount, self.rng)
        return {"node": node.name, "path": str(path), "kind": kind, **how}


def disk_fault(name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
               disk_options: DiskOptions) -> ProcessFault:
    """The disk fault called `name` (one of FAULTS)."""
    if name in IN_FORCE:
        return FaultsInForce(name, deployment, options, claims, disk_options)
    if name in POWER_LOSS:
        return PowerLoss(name, deployment, options, claims, disk_options)
    if name == CORRUPT_FILE:
        return FileCorruption(deployment, options, claims, disk_options)
    raise ValueError(f"{name!r} is no disk fault: choose one of {', '.join(FAULTS)}")
