"""A one-broker deployment with a real SIGSTOP nemesis, shaped like cluster/deploy's and nemesis/'s.

It lets the runner be tested end to end against a real `logquake broker` process, and
`python -m tests.harness.single_broker STORE SECONDS` runs a whole test on it (for the SIGINT test).
"""

from __future__ import annotations

import os
import random
import signal
import sys
from pathlib import Path
from typing import Any

import psutil

from cluster.deploy.broker_process import BrokerProcess
from logquake.runner import run
from logquake.spec import TestSpec


def listener_pid(port: int) -> int:
    """The process listening on a local port (the broker), found the way an operator would."""
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise LookupError(f"nothing listens on port {port}")


class OneBroker:
    backend = "local"

    def __init__(self, work_dir: Path) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.broker = BrokerProcess(work_dir / "b1")

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap

    def pid(self) -> int:
        return listener_pid(self.broker.port)

    def up(self) -> OneBroker:
        self.broker.start()
        return self

    def down(self, logs_to: Path | None = None) -> None:
        try:
            os.kill(self.pid(), signal.SIGCONT)
        except LookupError:
            pass
        self.broker.stop()
        if logs_to is not None:
            logs_to.mkdir(parents=True, exist_ok=True)
            (logs_to / "b1.log").write_text(self.broker.log_text())


class PauseNemesis:
    """start-pause: SIGSTOP the broker; stop-pause and heal: SIGCONT."""

    fs = frozenset({"start-pause", "stop-pause"})

    def __init__(self, deployment: OneBroker) -> None:
        self.deployment = deployment
        self.paused = False

    def invoke(self, f: str, value: Any) -> dict[str, Any]:
        if f == "start-pause":
            os.kill(self.deployment.pid(), signal.SIGSTOP)
            self.paused = True
            return {"nodes": ["b1"], "action": "SIGSTOP"}
        if f == "stop-pause":
            return {"nodes": self.heal_nodes(), "action": "SIGCONT"}
        raise ValueError(f"PauseNemesis does not handle {f}")

    def heal_nodes(self) -> list[str]:
        was_paused = self.paused
        os.kill(self.deployment.pid(), signal.SIGCONT)
        self.paused = False
        return ["b1"] if was_paused else []

    def heal(self) -> list[dict[str, Any]]:
        nodes = self.heal_nodes()
        return [{"fault": "pause", "nodes": nodes, "action": "SIGCONT"}] if nodes else []

    def active(self) -> list[str]:
        return ["pause b1"] if self.paused else []


def one_broker_spec(time_limit: float, **overrides: Any) -> TestSpec:
    values: dict[str, Any] = dict(
        name="one-broker", nemesis=("pause",), nemesis_interval=2, acks="all", brokers=1, keepers=0,
        replication_factor=1, min_insync=1, partitions=2, time_limit=time_limit, rate=50, concurrency=3,
        seed=1, backend="local", settle_time=0.5, final_time_limit=20, op_timeout=3)
    values.update(overrides)
    return TestSpec(**values)


def run_one_broker(spec: TestSpec, store_root: Path) -> Any:
    return run(spec, store_root, deploy=lambda spec, work_dir: OneBroker(work_dir),
               build_nemesis=lambda spec, deployment, rng: PauseNemesis(deployment))


if __name__ == "__main__":
    outcome = run_one_broker(one_broker_spec(float(sys.argv[2])), Path(sys.argv[1]))
    sys.exit(outcome.exit_code)
