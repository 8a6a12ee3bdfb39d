"""Nodes and a deployment that keep the harness.seams protocols in memory, with a disk control that records what it
was told and, when asked, a real clock control file per node that no process reads: for nemesis tests that check what
a fault does to each node, in what order, without a cluster."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cluster.clock import ClockControl
from cluster.deploy.proxy_server import ProxyServer
from cluster.faultfs import DiskFaults, LossReport


class RecordingDisk:
    """DiskControl's interface; every call lands in `calls` (shared by a cluster, so order across nodes shows)."""

    def __init__(self, name: str, calls: list[tuple[Any, ...]]) -> None:
        self.name = name
        self.calls = calls
        self.faults = DiskFaults()

    def set_faults(self, faults: DiskFaults) -> None:
        self.faults = faults
        self.calls.append(("set_faults", self.name, faults))

    def clear_faults(self) -> None:
        self.faults = DiskFaults()
        self.calls.append(("clear_faults", self.name))

    def lose_unsynced(self, torn: bool = False, seed: int = 0) -> LossReport:
        self.calls.append(("lose_unsynced", self.name, torn, seed))
        return LossReport(files=[{"path": "queue-0/00000000000000000000.log", "kept_bytes": 10, "lost_bytes": 5,
                                  "torn_bytes": 2 if torn else 0}], entries=[])


class FakeNode:
    cannot_partition: str | None = None

    def __init__(self, name: str, role: str, node_id: int, directory: Path, calls: list[tuple[Any, ...]],
                 disk: bool, clock: bool = False) -> None:
        self.name = name
        self.role = role
        self.node_id = node_id
        self.host = f"127.0.9.{node_id}"
        self.port = 9092 if role == "broker" else 2181
        self.data_directory = directory / name / "data"
        self.data_directory.mkdir(parents=True)
        self.calls = calls
        self.disk = RecordingDisk(name, calls) if disk else None
        self.clock = ClockControl.create(directory / name / "clock") if clock else None
        self.running = True
        self.paused = False

    def start(self) -> None:
        assert not self.running, f"{self.name} started while running"
        self.running = True
        self.calls.append(("start", self.name))

    def stop(self, timeout: float = 30) -> None:
        self.running = False
        self.calls.append(("stop", self.name))

    def kill(self) -> None:
        self.running = False
        self.calls.append(("kill", self.name))

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def is_running(self) -> bool:
        return self.running

    def is_paused(self) -> bool:
        return self.paused

    def drop_packets(self, inbound_from: Sequence[FakeNode] = (), outbound_to: Sequence[FakeNode] = ()) -> None:
        self.calls.append(("drop_packets", self.name, [n.name for n in inbound_from], [n.name for n in outbound_to]))

    def reconnect(self) -> None:
        self.calls.append(("reconnect", self.name))

    def wait_serving(self, timeout: float = 60) -> None:
        assert self.running, f"{self.name} waited on while stopped"
        self.calls.append(("serving", self.name))


class FakeDeployment:
    backend = "fake"
    bootstrap_servers = ""
    keeper_connect = ""
    proxies: ProxyServer | None = None

    def __init__(self, directory: Path, brokers: int = 3, keepers: int = 3, disks: bool = True,
                 clocks: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.nodes = [FakeNode(f"k{i}", "keeper", i, directory, self.calls, disks, clocks) for i in range(1, keepers + 1)]
        self.nodes += [FakeNode(f"b{i}", "broker", i, directory, self.calls, disks, clocks)
                       for i in range(1, brokers + 1)]

    @property
    def brokers(self) -> list[FakeNode]:
        return [node for node in self.nodes if node.role == "broker"]

    @property
    def keepers(self) -> list[FakeNode]:
        return [node for node in self.nodes if node.role == "keeper"]

    def node(self, name: str) -> FakeNode:
        return next(node for node in self.nodes if node.name == name)

    def up(self, timeout: float = 90) -> FakeDeployment:
        return self

    def down(self, logs_to: Path | None = None) -> None:
        pass
