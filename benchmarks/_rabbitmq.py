"""A throwaway RabbitMQ node that lives and dies inside one work directory, for benchmarks to compare against.

The node is set up as a deployment's are (cluster.deploy.rabbitmq): its data, logs, plugin and
feature-flag files, HOME (so its own cookie) and a private epmd port all belong to the work
directory, so a run cannot meet another node on this machine and leaves nothing behind once stop()
has removed that directory.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from cluster.deploy.ports import free_port
from cluster.deploy.rabbitmq import (BIN, NodeIdentity, ctl_command, prepare, server_environment, stop_epmd,
                                     unavailable_reason)


class RabbitMQUnavailable(RuntimeError):
    """RabbitMQ is not installed or would not start: the caller reports it and carries on without it."""


class RabbitMQNode:
    def __init__(self) -> None:
        self.port = free_port()
        self._identity = NodeIdentity("logquake-bench", "127.0.0.1", secrets.token_hex(16), epmd_port=free_port(),
                                      amqp_port=self.port, dist_port=free_port())
        self._work: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> RabbitMQNode:
        """Boot the node and return once its AMQP port accepts connections."""
        reason = unavailable_reason()
        if reason is not None:
            raise RabbitMQUnavailable(reason)
        self._work = work = Path(tempfile.mkdtemp(prefix="logquake-rabbitmq-"))
        prepare(work, self._identity)
        (work / "rabbitmq.conf").write_text("")
        log = open(work / "server.out", "ab")
        try:
            self._process = subprocess.Popen(
                [str(BIN / "rabbitmq-server")], env=server_environment(work, self._identity), cwd=work,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as error:
            self._remove_work()
            raise RabbitMQUnavailable(f"could not run rabbitmq-server: {error}") from None
        finally:
            log.close()
        try:
            self._await_listener(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def server_processes(self) -> list[psutil.Process]:
        """The Erlang VM (the launcher script replaced itself with it) and its helpers: whose CPU time counts as the
        server's."""
        assert self._process is not None
        launcher = psutil.Process(self._process.pid)
        return [launcher, *launcher.children(recursive=True)]

    def stop(self) -> None:
        """Stop the node the way its tools do, end its private epmd, and remove the work directory."""
        try:
            if self._process is not None:
                tree = self.server_processes()
                self._ctl("stop")
                try:
                    self._process.wait(60)
                except subprocess.TimeoutExpired:
                    _kill(tree)
                    self._process.wait()
                self._process = None
            stop_epmd(self._identity.epmd_port)
        finally:
            self._remove_work()

    def _await_listener(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise RabbitMQUnavailable(f"rabbitmq-server exited with {code}:\n{self._server_output()}")
            try:
                socket.create_connection((self._identity.host, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RabbitMQUnavailable(f"rabbitmq-server did not listen within {timeout:.0f}s:\n{self._server_output()}")

    def _server_output(self) -> str:
        assert self._work is not None
        path = self._work / "server.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _ctl(self, *args: str) -> None:
        subprocess.run(ctl_command(self._identity, *args), cwd=self._work, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120, check=False)

    def _remove_work(self) -> None:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def _kill(processes: list[psutil.Process]) -> None:
    """SIGKILL each process of a node that would not stop: the launcher script alone would orphan the VM."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
