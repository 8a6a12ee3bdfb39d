"""A throwaway RabbitMQ node that lives and dies inside one work directory, for benchmarks to compare against.

Debian's rabbitmq-server would otherwise use /var/lib/rabbitmq, the machine's
Erlang cookie and the shared epmd on port 4369. Here the node's data, logs,
plugin and feature-flag files, HOME (so its own cookie) and a private epmd
port all belong to the work directory, so a run cannot meet another node on
this machine and leaves nothing behind once stop() has removed that directory.
The server drops to the rabbitmq user, so the directory is handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from cluster.deploy.ports import free_port

_BIN = Path("/usr/lib/rabbitmq/bin")
_USER = "rabbitmq"


class RabbitMQUnavailable(RuntimeError):
    """RabbitMQ is not installed or would not start: the caller reports it and carries on without it."""


class RabbitMQNode:
    def __init__(self) -> None:
        self.port = free_port()
        self._epmd_port = free_port()
        self._dist_port = free_port()
        self.node = f"logquake-bench-{os.getpid()}@localhost"
        self._work: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> RabbitMQNode:
        """Boot the node and return once its AMQP port accepts connections."""
        if not (_BIN / "rabbitmq-server").exists():
            raise RabbitMQUnavailable("rabbitmq-server is not installed (Debian package rabbitmq-server)")
        try:
            pwd.getpwnam(_USER)
        except KeyError:
            raise RabbitMQUnavailable(f"no {_USER} user: is the rabbitmq-server package installed?") from None
        self._work = Path(tempfile.mkdtemp(prefix="logquake-rabbitmq-"))
        try:
            self._prepare(self._work)
        except PermissionError as error:
            self._remove_work()
            raise RabbitMQUnavailable(f"cannot hand the node's directory to {_USER} (run as root): {error}") from None
        log = open(self._work / "server.out", "ab")
        try:
            self._process = subprocess.Popen(
                [str(_BIN / "rabbitmq-server")], env=self._environment(), user=_USER, cwd=self._work,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as error:
            self._remove_work()
            raise RabbitMQUnavailable(f"could not run rabbitmq-server as {_USER}: {error}") from None
        finally:
            log.close()
        try:
            self._await_listener(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def server_processes(self) -> list[psutil.Process]:
        """The launcher script and the Erlang VM under it: whose CPU time counts as the server's."""
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
            self._stop_epmd()
        finally:
            self._remove_work()

    def _prepare(self, work: Path) -> None:
        for name in ("mnesia", "log", "home"):
            (work / name).mkdir()
        (work / "enabled_plugins").write_text("[].\n")
        (work / "rabbitmq-env.conf").write_text("")
        (work / "rabbitmq.conf").write_text("")
        user = pwd.getpwnam(_USER)
        for path in [work, *work.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _environment(self) -> dict[str, str]:
        assert self._work is not None
        work = self._work
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(work / "home"),
            "LANG": "C.UTF-8",
            "ERL_EPMD_PORT": str(self._epmd_port),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self._dist_port),
            "RABBITMQ_MNESIA_BASE": str(work / "mnesia"),
            "RABBITMQ_LOG_BASE": str(work / "log"),
            "RABBITMQ_CONFIG_FILE": str(work / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(work / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(work / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(work / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(work / "feature_flags"),
        }

    def _await_listener(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise RabbitMQUnavailable(f"rabbitmq-server exited with {code}:\n{self._server_output()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RabbitMQUnavailable(f"rabbitmq-server did not listen within {timeout:.0f}s:\n{self._server_output()}")

    def _server_output(self) -> str:
        assert self._work is not None
        path = self._work / "server.out"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [str(_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self._environment(), user=_USER,
            cwd=self._work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False,
        )

    def _stop_epmd(self) -> None:
        """epmd daemonizes away from the node, so find it by the private port it listens on."""
        for connection in psutil.net_connections("tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port == self._epmd_port and connection.pid:
                try:
                    psutil.Process(connection.pid).terminate()
                except psutil.NoSuchProcess:
                    pass

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
