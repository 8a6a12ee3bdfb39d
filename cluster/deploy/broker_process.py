"""A broker running as a real `logquake broker` process on 127.0.0.1: what tests and benchmarks start.

Being a real process is the point: SIGKILL leaves exactly what a crash leaves,
and clients talk to it over real sockets.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Sequence

from cluster.broker.endpoints import PLAINTEXT
from cluster.deploy.node_process import NodeProcess
from cluster.deploy.ports import HOST, free_port


class BrokerProcess:
    def __init__(self, data_dir: Path, listener_names: Sequence[str] = (PLAINTEXT,), **overrides: object) -> None:
        """One listener per name, each on a free port of 127.0.0.1 (`ports`); the first is the bootstrap."""
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in listener_names}
        self.port = self.ports[listener_names[0]]
        listeners = {"listeners": ",".join(f"{name}://{HOST}:{port}" for name, port in self.ports.items())}
        if tuple(listener_names) != (PLAINTEXT,):
            listeners["listener.security.protocol.map"] = ",".join(f"{name}:{PLAINTEXT}" for name in listener_names)
        self.overrides = {
            "log.dirs": str(data_dir),
            **listeners,
            "group.initial.rebalance.delay.ms": 0,
            "offsets.topic.num.partitions": 5,
            **overrides,
        }
        self.log_path = data_dir.parent / f"{data_dir.name}-broker.log"
        self._process = NodeProcess(self.log_path)

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def address(self, listener: str) -> str:
        return f"{HOST}:{self.ports[listener]}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout: float = 30) -> BrokerProcess:
        """Starts the broker and waits until it accepts connections on every listener."""
        command = [sys.executable, "-m", "logquake", "broker"]
        for key, value in self.overrides.items():
            command += ["--override", f"{key}={value}"]
        self._process.start(command)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.exit_code()
            if code is not None:
                raise RuntimeError(f"broker exited with {code}:\n{self.log_text()}")
            if all(map(_accepts, self.ports.values())):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"broker did not listen within {timeout}s:\n{self.log_text()}")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM: the graceful path (flush, close segments)."""
        return self._process.stop(timeout)

    def kill(self) -> int | None:
        """SIGKILL: what a crash leaves behind."""
        return self._process.kill()

    def pause(self) -> None:
        """SIGSTOP: the broker keeps its sockets and its keeper session for the session timeout, and says nothing."""
        self._process.pause()

    def resume(self) -> None:
        self._process.resume()

    def exit_code(self) -> int | None:
        """The exit code once the process has ended, None while it runs (or before it started)."""
        return self._process.exit_code()

    def log_text(self) -> str:
        return self._process.log_text()

    def __enter__(self) -> BrokerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self._process.kill()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False
