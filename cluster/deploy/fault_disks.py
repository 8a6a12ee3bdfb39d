"""Nodes' data directories on the fault filesystem (cluster.faultfs), for runs that inject disk faults.

A run that asks for disk faults (ClusterSpec.fault_disks) gets every node's data/ mounted before
anything is written into it, so that everything a node ever stores passes through the filesystem
whose faults the nemesis controls. The daemons run on the host, for both backends: a container sees
the mount through its bind-mounted node directory, and a daemon outlives kills of its node as a page
cache outlives a process crash. Runs without disk faults mount nothing and pay nothing.

Every deployment, and `logquake cluster down`, first removes the mounts of harnesses that are gone
(a crashed or killed run): each mount records the process that made it, so a live run's mounts are
never touched, and nobody else's filesystems either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from cluster.deploy.backend import DeployError
from cluster.deploy.node import DATA_DIR
from cluster.faultfs import STRICT, DiskControl, FaultFSError, FaultMount, fuse_unavailable, remove_stale_mounts

STATE_DIR = "faultfs"
"""The daemon's own files beside the node's data/: the backing store, the control socket, its log."""

_log = logging.getLogger(__name__)


def require_fuse() -> None:
    """Raises DeployError saying why this machine cannot mount a fault filesystem, if it cannot."""
    reason = fuse_unavailable()
    if reason is not None:
        raise DeployError(f"disk faults need each node's data directory on a FUSE filesystem, "
                          f"and this machine cannot mount one: {reason}")


def remove_stale() -> list[str]:
    """Unmounts what harnesses that are gone left mounted; returns what it removed, one line each."""
    try:
        removed = [f"fault filesystem at {mountpoint}" for mountpoint in remove_stale_mounts()]
    except FaultFSError as error:
        raise DeployError(f"removing fault filesystems left by runs that are gone failed: {error}") from None
    for what in removed:
        _log.info("removed the %s, left by a run that is gone", what)
    return removed


class FaultDisks:
    """One run's mounts, one per node, kept so that teardown unmounts every one of them."""

    def __init__(self, owner: str, entries: str = STRICT) -> None:
        self.owner = owner
        """The run id, recorded by each mount's daemon."""
        self.entries = entries
        self._mounts: dict[str, FaultMount] = {}

    def mount(self, name: str, node_directory: Path) -> DiskControl:
        """Mounts node_directory/data; whatever is there already moves into the filesystem, durable."""
        mount = FaultMount(node_directory / DATA_DIR, node_directory / STATE_DIR, self.owner, self.entries)
        self._mounts[name] = mount  # kept before mounting: a half-made mount is unmounted at teardown too
        try:
            return mount.mount()
        except FaultFSError as error:
            raise DeployError(f"mounting the fault filesystem on {name}'s data directory failed: {error}") from None

    def __iter__(self) -> Iterator[tuple[str, FaultMount]]:
        """(node name, mount) for every mount made or attempted, in the order they were made."""
        return iter(list(self._mounts.items()))
