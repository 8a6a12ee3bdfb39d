"""Workloads: for each, the client that performs its operations and the generators that schedule them.

`workload(name)` gives the named workload (see workloads.workload for what the runner asks of one).
"""

from __future__ import annotations

from workloads.workload import Workload


def workload(name: str) -> Workload:
    """The workload named in a spec; imported on demand, so a queue run never loads kazoo."""
    if name == "queue":
        from workloads.queue.workload import QueueWorkload

        return QueueWorkload()
    if name == "register":
        from workloads.register.workload import RegisterWorkload

        return RegisterWorkload()
    if name == "log":
        from workloads.log.workload import LogWorkload

        return LogWorkload()
    raise ValueError(f"no workload named {name!r}")
