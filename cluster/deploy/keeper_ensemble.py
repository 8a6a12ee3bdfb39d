"""An ensemble of coordination servers as real local processes: our keeper or Apache ZooKeeper 3.8.

Both kinds get the same zoo.cfg (ZooKeeper's own names and defaults, so fsync
stays on), the same myid files and the same four-letter-word checks, which is
what lets one test or benchmark run unchanged against either: ZooKeeper proves
the test right, keeper is what is under test. Being real processes is the
point: SIGKILL leaves what a crash leaves, and clients use real sockets.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from cluster.deploy.node_process import NodeProcess
from cluster.deploy.ports import HOST, free_ports

Kind = Literal["keeper", "zookeeper"]
KINDS: tuple[Kind, ...] = ("zookeeper", "keeper")
SERVING_MODES = ("leader", "follower", "standalone")

KEEPER_MODULE = "cluster.keeper.main"
"""The same click command as `logquake keeper`, runnable whether or not the CLI lists it yet."""
ZOOKEEPER_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
"""Debian's jar names every dependency it needs in its manifest's Class-Path."""
LOGGING_JARS = (Path("/usr/share/java/slf4j-log4j12.jar"), Path("/usr/share/java/log4j-1.2.jar"))
"""ZooKeeper logs through slf4j; without a binding it logs nothing at all, and a node's log is evidence."""
ZOOKEEPER_LOG4J = """\
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n
"""
ZOOKEEPER_HEAP = "-Xmx512m"


def zookeeper_command(config: Path) -> list[str]:
    """Apache ZooKeeper's JVM command line for `config`, whose directory comes first on the classpath
    so that the log4j.properties beside it is found."""
    classpath = ":".join([str(config.parent), str(ZOOKEEPER_JAR), *map(str, LOGGING_JARS)])
    return ["java", ZOOKEEPER_HEAP, "-cp", classpath, ZOOKEEPER_MAIN, str(config)]


class EnsembleError(RuntimeError):
    """A server that would not start, stop or serve; the message carries the end of its log."""


class EnsembleUnavailable(EnsembleError):
    """This machine cannot run the requested kind (no java, no ZooKeeper jars)."""


def unavailable_reason(kind: Kind) -> str | None:
    """Why `kind` cannot run here, or None; tests turn it into a skip (or a failure under CI)."""
    if kind == "keeper":
        return None
    if shutil.which("java") is None:
        return "no java on PATH (Debian: openjdk-17-jre-headless)"
    missing = [str(jar) for jar in (ZOOKEEPER_JAR, *LOGGING_JARS) if not jar.exists()]
    if missing:
        return f"missing {', '.join(missing)} (Debian: zookeeper)"
    return None


@dataclass(frozen=True)
class Ports:
    client: int
    peer: int
    election: int


def zoo_cfg(node_id: int, data_dir: Path, ports: dict[int, Ports], tick_time: int) -> str:
    """One node's zoo.cfg; the ensemble's servers are listed even for one node, as the myid file needs them."""
    lines = [
        f"tickTime={tick_time}",
        "initLimit=10",
        "syncLimit=5",
        f"dataDir={data_dir}",
        f"clientPort={ports[node_id].client}",
        f"clientPortAddress={HOST}",
        "4lw.commands.whitelist=*",
        "admin.enableServer=false",
    ]
    lines += [f"server.{n}={HOST}:{p.peer}:{p.election}" for n, p in sorted(ports.items())]
    return "\n".join(lines) + "\n"


class EnsembleNode:
    """One server: its files live under `directory`, which survives restarts (that is where its data is)."""

    def __init__(self, kind: Kind, node_id: int, directory: Path, ports: Ports) -> None:
        self.kind = kind
        self.node_id = node_id
        self.directory = directory
        self.ports = ports
        self.config_path = directory / "zoo.cfg"
        self.data_dir = directory / "data"
        self.log_path = directory / "node.log"
        self._process = NodeProcess(self.log_path, cwd=directory)

    @property
    def address(self) -> str:
        return f"{HOST}:{self.ports.client}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def command(self) -> list[str]:
        if self.kind == "keeper":
            return [sys.executable, "-m", KEEPER_MODULE, "--config", str(self.config_path)]
        return zookeeper_command(self.config_path)

    def start(self) -> None:
        """Launches the process without waiting for it to serve: an ensemble only serves once a quorum is up."""
        if self.is_running():
            raise EnsembleError(f"node {self.node_id} is already running")
        self._process.start(self.command())

    def is_running(self) -> bool:
        return self._process.is_running()

    def has_exited(self) -> bool:
        """Started and then ended without being told to: a crash or a refused configuration."""
        return self._process.exit_code() is not None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, the graceful path; returns the exit code (None if it was not running)."""
        try:
            return self._process.stop(timeout)
        except subprocess.TimeoutExpired:
            raise EnsembleError(f"node {self.node_id} ignored signal {signal.SIGTERM} for {timeout}s; killed") from None

    def kill(self) -> int | None:
        """SIGKILL: exactly what a crash leaves behind."""
        return self._process.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def four_letter_word(self, word: str, timeout: float = 5) -> str:
        """Sends a four-letter word (ruok, srvr, stat, mntr, isro, ...) and returns the whole answer."""
        with socket.create_connection((HOST, self.ports.client), timeout=timeout) as sock:
            sock.sendall(word.encode("ascii"))
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def mode(self) -> str | None:
        """leader, follower or standalone while serving; None when not running, not answering or not serving."""
        if not self.is_running():
            return None
        try:
            answer = self.four_letter_word("srvr", timeout=2)
        except OSError:
            return None
        for line in answer.splitlines():
            if line.startswith("Mode:"):
                mode = line.partition(":")[2].strip()
                return mode if mode in SERVING_MODES else None
        return None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class KeeperEnsemble:
    """N servers of one kind on 127.0.0.1 under `workdir`; `close()` kills them all, whatever happened before."""

    def __init__(self, kind: Kind, size: int, workdir: Path, tick_time: int = 2000) -> None:
        if size < 1:
            raise ValueError(f"an ensemble needs at least one server, not {size}")
        reason = unavailable_reason(kind)
        if reason is not None:
            raise EnsembleUnavailable(f"cannot run {kind}: {reason}")
        self.kind = kind
        self.workdir = workdir
        self.tick_time = tick_time
        numbers = free_ports(3 * size)
        ports = {n: Ports(*numbers[3 * (n - 1) : 3 * n]) for n in range(1, size + 1)}
        self.nodes = [self._prepare(n, ports) for n in sorted(ports)]

    def _prepare(self, node_id: int, ports: dict[int, Ports]) -> EnsembleNode:
        node = EnsembleNode(self.kind, node_id, self.workdir / f"{self.kind}-{node_id}", ports[node_id])
        node.data_dir.mkdir(parents=True, exist_ok=True)
        (node.data_dir / "myid").write_text(f"{node_id}\n")
        node.config_path.write_text(zoo_cfg(node_id, node.data_dir, ports, self.tick_time))
        if self.kind == "zookeeper":
            (node.directory / "log4j.properties").write_text(ZOOKEEPER_LOG4J)
        return node

    @property
    def connect_string(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def node(self, node_id: int) -> EnsembleNode:
        return self.nodes[node_id - 1]

    def start(self, timeout: float = 60) -> KeeperEnsemble:
        for node in self.nodes:
            node.start()
        self.wait_until_serving(timeout)
        return self

    def wait_until_serving(self, timeout: float = 60) -> EnsembleNode:
        """Waits until every running node serves, one of them leads, and they make a quorum; returns the leader."""
        try:
            for attempt in Retrying(
                stop=stop_after_delay(timeout), wait=wait_fixed(0.2), retry=retry_if_exception_type(_NotServing), reraise=True
            ):
                with attempt:
                    return self._serving_leader()
        except _NotServing as not_serving:
            raise EnsembleError(f"{self.kind} ensemble not serving after {timeout}s: {not_serving}\n{self._logs()}") from None
        raise AssertionError("unreachable: Retrying either returns or raises")

    def _serving_leader(self) -> EnsembleNode:
        running = [node for node in self.nodes if node.is_running()]
        exited = [node.node_id for node in self.nodes if node.has_exited()]
        if exited:
            raise EnsembleError(f"{self.kind} node(s) {exited} exited\n{self._logs()}")
        modes = {node.node_id: node.mode() for node in running}
        leaders = [node for node in running if modes[node.node_id] in ("leader", "standalone")]
        if len(running) <= len(self.nodes) // 2 or None in modes.values() or len(leaders) != 1:
            raise _NotServing(f"modes {modes}")
        return leaders[0]

    def leader(self) -> EnsembleNode:
        """The node that says it leads right now; raises when none or several do."""
        leaders = [node for node in self.nodes if node.mode() in ("leader", "standalone")]
        if len(leaders) != 1:
            raise EnsembleError(f"expected one leader, found {[node.node_id for node in leaders]}")
        return leaders[0]

    def followers(self) -> list[EnsembleNode]:
        return [node for node in self.nodes if node.mode() == "follower"]

    def close(self) -> None:
        for node in self.nodes:
            node.kill()

    def _logs(self) -> str:
        return "\n".join(f"--- {self.kind} node {node.node_id} ({node.log_path}):\n{node.log_tail()}" for node in self.nodes)

    def __enter__(self) -> KeeperEnsemble:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


class _NotServing(Exception):
    """Not yet: some node is still electing or catching up."""


def _main(argv: list[str]) -> int:
    """`python -m cluster.deploy.keeper_ensemble KIND SIZE WORKDIR`: runs an ensemble until Ctrl-C or SIGTERM."""
    if len(argv) != 3 or argv[0] not in KINDS or not argv[1].isdigit():
        print(f"usage: python -m cluster.deploy.keeper_ensemble {{{'|'.join(KINDS)}}} SIZE WORKDIR", file=sys.stderr)
        return 2
    kind: Kind = "keeper" if argv[0] == "keeper" else "zookeeper"
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with contextlib.suppress(KeyboardInterrupt), KeeperEnsemble(kind, int(argv[1]), Path(argv[2])) as ensemble:
        print(f"{kind} serving at {ensemble.connect_string}; leader is node {ensemble.leader().node_id}", flush=True)
        signal.pause()
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, through the ensemble's close, so no server outlives the launcher."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
