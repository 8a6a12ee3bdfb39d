"""A cgroup per local node, so that iptables can tell the node's packets from everyone else's.

Local nodes share the host's network namespace: a connection a node opens to a peer leaves from
127.0.0.1, as a client's does, so no address says which node sent it. The socket's cgroup does
(iptables' `-m cgroup --path`, on cgroup v2), so each node of a run gets a cgroup of its own under
one directory per loopback block (`logquake-127.0.N/`, as a block is one run's) and its process
joins it before it execs, through a one-line shell wrapper that is safe in a threaded harness.
This needs root and a cgroup v2 hierarchy; without them local nodes cannot be partitioned.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROCS = "cgroup.procs"


def cgroup2_root(mounts: Path = Path("/proc/mounts")) -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (the whole tree, or 'unified' beside v1), if anywhere."""
    for line in mounts.read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def unavailable_reason() -> str | None:
    """Why local nodes cannot be put in cgroups of their own here, or None when they can."""
    if os.geteuid() != 0:
        return "local partitions need root (cgroups and iptables rules on the host)"
    if shutil.which("iptables") is None:
        return "local partitions need iptables on the host"
    root = cgroup2_root()
    if root is None or not os.access(root, os.W_OK):
        return "local partitions need a writable cgroup v2 hierarchy (iptables matches a node's packets by cgroup)"
    return None


class BlockCgroups:
    """The cgroups of one loopback block's nodes: created per node, removed with the run."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.base = root / name

    def create(self, node: str) -> Path:
        path = self.base / node
        path.mkdir(parents=True, exist_ok=True)
        return path

    def relative(self, path: Path) -> str:
        """The path as iptables' cgroup match wants it: relative to the hierarchy's root."""
        return str(path.relative_to(self.root))

    def remove(self) -> None:
        """Removes every node's cgroup of the block; a cgroup still holding a process stays."""
        if not self.base.is_dir():
            return
        for path in self.base.iterdir():
            if path.is_dir():
                _rmdir(path)
        _rmdir(self.base)


def joining(cgroup: Path, argv: list[str]) -> list[str]:
    """argv, run by a shell that first moves itself into `cgroup` and then becomes argv (same pid)."""
    return ["sh", "-c", f'echo $$ > "$0/{PROCS}" && exec "$@"', str(cgroup), *argv]


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
