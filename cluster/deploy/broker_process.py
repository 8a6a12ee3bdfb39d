"""A broker running as a real `logquake broker` process: what tests, benchmarks and local clusters start.

Being a real process is the point: SIGKILL leaves exactly what a crash leaves,
and clients talk to it over real sockets.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cluster.deploy.ports import free_port


class BrokerProcess:
    def __init__(self, data_dir: Path, **overrides: object) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.overrides = {
            "log.dirs": str(data_dir),
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "group.initial.rebalance.delay.ms": 0,
            "offsets.topic.num.partitions": 5,
            **overrides,
        }
        self.log_path = data_dir.parent / f"{data_dir.name}-broker.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> BrokerProcess:
        command = [sys.executable, "-m", "logquake", "broker"]
        for key, value in self.overrides.items():
            command += ["--override", f"{key}={value}"]
        log = open(self.log_path, "ab")
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"broker exited with {self._process.returncode}:\n{self.log_path.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"broker did not listen within {timeout}s:\n{self.log_path.read_text()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM: the graceful path (flush, close segments)."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int:
        """SIGKILL: what a crash leaves behind."""
        return self._end(signal.SIGKILL, 30)

    def _end(self, signum: int, timeout: float) -> int:
        assert self._process is not None
        self._process.send_signal(signum)
        code = self._process.wait(timeout)
        self._process = None
        return code

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> BrokerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self.kill()
