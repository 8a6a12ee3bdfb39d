"""The two sides of the disk_faults benchmark: the same local cluster twice, up at the same time, one on plain data
directories and one with every data directory on the fault filesystem (no fault in force), and one produce phase
measured on either side.

A phase accounts what its side spent: the client and the brokers (benchmarks._cpu), the FUSE daemons serving the
mounted side's data directories, the FUSE requests the kernel sent them (when perf can count them), and the bytes the
brokers' data directories grew by.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import psutil
from confluent_kafka import Producer

from benchmarks import _fuse_requests
from benchmarks._cpu import Usage
from benchmarks._fuse_daemon import NOTHING, DaemonCost, daemon_cost, daemon_of
from benchmarks._kafka import MESSAGE_BYTES, check_stored, produce_measured
from benchmarks._thread_states import ThreadStates, sampled
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy
from cluster.deploy.fault_disks import STATE_DIR
from cluster.deploy.local import PID_FILE
from cluster.deploy.up import wait_registered

T = TypeVar("T")
PLAIN, MOUNTED = "plain", "mounted"


@dataclass(frozen=True)
class Phase:
    """One produce phase on one side."""

    setup: str
    workload: str
    side: str
    messages: int
    usage: Usage
    latencies: list[float]
    """Seconds from produce() to the delivery report, sorted."""
    daemon: DaemonCost
    requests: dict[str, int] | None
    """FUSE requests by kind (_fuse_requests.KINDS); None on the plain side or when they cannot be counted."""
    log_bytes: int
    """What the brokers' data directories grew by."""
    states: ThreadStates
    """Where the brokers' serving threads spent the phase."""

    @property
    def rate(self) -> float:
        return self.messages / self.usage.seconds


class Side:
    """One of the two clusters: its brokers' processes, and its mounts' daemons on the mounted side."""

    def __init__(self, name: str, deployment: Deployment, count_requests: bool) -> None:
        self.name = name
        self.deployment = deployment
        self.bootstrap = deployment.bootstrap_servers
        self.brokers = [psutil.Process(int((b.directory / PID_FILE).read_text())) for b in deployment.brokers]
        mounted = [node for node in deployment.nodes if node.disk is not None]
        self.daemons = [daemon_of(node.directory / STATE_DIR) for node in mounted]
        self._mountpoints = [node.data_directory for node in mounted] if count_requests else []
        self._data = [broker.data_directory for broker in deployment.brokers]
        self._sent: dict[str, int] = {}
        self._one_by_one: Producer | None = None

    def produce(self, setup: str, workload: str, topic: str, count: int) -> Phase:
        """acks=all, from a fresh producer (benchmarks._kafka)."""
        def measured() -> tuple[tuple[Usage, list[float]], ThreadStates]:
            return sampled([broker.pid for broker in self.brokers],
                           lambda: produce_measured(self.bootstrap, self.brokers, topic, "all", count))

        grown_from = self._stored_bytes()
        (((usage, latencies), states), daemon), requests = self._requests(lambda: daemon_cost(self.daemons, measured))
        self._count(topic, count)
        return Phase(setup, workload, self.name, count, usage, latencies, daemon if self.daemons else NOTHING,
                     requests, self._stored_bytes() - grown_from, states)

    def one_at_a_time(self, topic: str, count: int) -> list[float]:
        """acks=all, each message acknowledged before the next is sent: seconds from produce() to its delivery."""
        if self._one_by_one is None:
            self._one_by_one = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "linger.ms": 0})
        value, latencies, errors = os.urandom(MESSAGE_BYTES), [], []
        for _ in range(count):
            started = time.perf_counter()
            self._one_by_one.produce(topic, value, on_delivery=lambda error, _: errors.append(error) if error else None)
            if self._one_by_one.flush(30) or errors:
                raise RuntimeError(f"{topic}: a message sent one at a time was not delivered: {errors or 'timeout'}")
            latencies.append(time.perf_counter() - started)
        self._count(topic, count)
        return latencies

    def close(self) -> None:
        """Lets the one-at-a-time producer go before the cluster does (it would report the brokers gone)."""
        if self._one_by_one is not None:
            self._one_by_one.flush(10)
            self._one_by_one = None

    def check_stored(self) -> None:
        """Every topic holds exactly what this side had acknowledged."""
        for topic, count in self._sent.items():
            check_stored(self.bootstrap, topic, count)

    def _count(self, topic: str, count: int) -> None:
        self._sent[topic] = self._sent.get(topic, 0) + count

    def _requests(self, work: Callable[[], T]) -> tuple[T, dict[str, int] | None]:
        if not self._mountpoints:
            return work(), None
        return _fuse_requests.counted(self._mountpoints, work)

    def _stored_bytes(self) -> int:
        return sum(os.path.getsize(os.path.join(top, name))
                   for data in self._data for top, _, names in os.walk(data) for name in names)


@contextmanager
def both_sides(spec: ClusterSpec, work_dir: Path, count_requests: bool) -> Iterator[dict[str, Side]]:
    """Both clusters up (each on its own loopback block), taken down whatever happens."""
    with ExitStack() as stack:
        sides = {}
        for name, fault_disks in ((PLAIN, False), (MOUNTED, True)):
            deployment = stack.enter_context(deploy(dataclasses.replace(spec, fault_disks=fault_disks), "local",
                                                    work_dir / name))
            if deployment.keepers:
                wait_registered(deployment, timeout=120)
            sides[name] = Side(name, deployment, count_requests)
            stack.callback(sides[name].close)
        yield sides
