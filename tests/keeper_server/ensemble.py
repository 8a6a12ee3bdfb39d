"""Real keeper server processes on free loopback ports, and a raw jute client for what kazoo will not send."""

from __future__ import annotations

import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cluster.deploy.node_process import NodeProcess
from cluster.deploy.ports import free_port
from cluster.keeper.jute.framing import frame
from cluster.keeper.jute.records import ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader
from cluster.keeper.jute.wire import decode, encode

STARTUP_TIMEOUT_S = 30.0


def four_letter_word(port: int, word: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(word.encode())
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def srvr_field(port: int, name: str) -> str | None:
    """A line of `srvr` ("Mode", "Zxid"), or None when the server is down or not serving."""
    try:
        text = four_letter_word(port, "srvr")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{name}: "):
            return line.split(": ", 1)[1]
    return None


@dataclass
class KeeperProcess:
    server_id: int
    directory: Path
    client_port: int
    process: NodeProcess = field(init=False)

    def __post_init__(self) -> None:
        self.process = NodeProcess(self.directory / "keeper.log", cwd=self.directory)

    @property
    def config_path(self) -> Path:
        return self.directory / "zoo.cfg"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self, *launcher: str) -> None:
        """Runs keeper, or a `launcher` (a script and its arguments) that runs keeper given --config."""
        program = list(launcher) or ["-m", "cluster.keeper.main"]
        self.process.start([sys.executable, *program, "--config", str(self.config_path)])

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """SIGTERM (the graceful path) or SIGKILL (a crash); the exit code."""
        return self.process.kill() if sig == signal.SIGKILL else self.process.stop()

    @property
    def running(self) -> bool:
        return self.process.is_running()

    def mode(self) -> str | None:
        return srvr_field(self.client_port, "Mode") if self.running else None

    def log_text(self) -> str:
        return self.process.log_text()


@dataclass
class Ensemble:
    servers: list[KeeperProcess] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, size: int, extra: str = "") -> Ensemble:
        peer_ports = [(free_port(), free_port()) for _ in range(size)]
        lines = "".join(
            f"server.{n}=127.0.0.1:{peer}:{election}\n" for n, (peer, election) in enumerate(peer_ports, start=1)
        ) if size > 1 else ""
        ensemble = cls()
        for server_id in range(1, size + 1):
            directory = root / f"keeper{server_id}"
            (directory / "data").mkdir(parents=True)
            if size > 1:
                (directory / "data" / "myid").write_text(f"{server_id}\n")
            port = free_port()
            (directory / "zoo.cfg").write_text(
                f"tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={directory / 'data'}\nclientPort={port}\n"
                f"clientPortAddress=127.0.0.1\nadmin.enableServer=false\n{extra}{lines}"
            )
            ensemble.servers.append(KeeperProcess(server_id, directory, port))
        return ensemble

    def start(self) -> None:
        for server in self.servers:
            if not server.running:
                server.start()
        self.wait_until_serving()

    def wait_until_serving(self) -> None:
        """Every running server knows a leader, and exactly one server leads (or runs standalone)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            modes = [server.mode() for server in self.servers if server.running]
            leaders = sum(mode in ("leader", "standalone") for mode in modes)
            if None not in modes and leaders == 1:
                return
            time.sleep(0.1)
        logs = "\n".join(f"--- keeper {s.server_id}\n{s.log_text()[-3000:]}" for s in self.servers)
        raise AssertionError(f"the ensemble did not settle on one leader in {STARTUP_TIMEOUT_S} s\n{logs}")

    def leader(self) -> KeeperProcess:
        return next(s for s in self.servers if s.mode() in ("leader", "standalone"))

    def followers(self) -> list[KeeperProcess]:
        return [s for s in self.servers if s.running and s.mode() == "follower"]

    @property
    def hosts(self) -> str:
        return ",".join(server.address for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


class RawClient:
    """A jute client that sends exactly the bytes a test wants, ZooKeeper's way or not."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._buffer = b""

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def connect(self, timeout_ms: int = 10_000, session_id: int = 0, passwd: bytes = b"\0" * 16) -> ConnectResponse:
        self.send(frame(encode(ConnectRequest(0, 0, timeout_ms, session_id, passwd, False))))
        return decode(ConnectResponse, self.receive())

    def request(self, xid: int, op: int, record: object = None) -> tuple[ReplyHeader, bytes]:
        body = encode(RequestHeader(xid, op)) + (b"" if record is None else encode(record))
        self.send(frame(body))
        reply = self.receive()
        return decode(ReplyHeader, reply[:16]), reply[16:]

    def receive(self) -> bytes:
        """One frame's payload; ConnectionError when the server closed the connection."""
        while len(self._buffer) < 4 or len(self._buffer) < 4 + struct.unpack(">i", self._buffer[:4])[0]:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        length = struct.unpack(">i", self._buffer[:4])[0]
        payload, self._buffer = self._buffer[4 : 4 + length], self._buffer[4 + length :]
        return payload

    def closed_by_server(self) -> bool:
        """Waits (up to the socket timeout) for the server to close; False if it kept the connection."""
        try:
            while True:
                if not self.socket.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.socket.close()
