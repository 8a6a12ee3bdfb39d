"""The control channel of one mount: JSON lines over a Unix socket, served by a thread of the
daemon (Python signal handlers do not run while fuse_main holds the main thread).

A request is one line {"op": NAME, ...arguments}; the answer one line {"ok": true, "result": ...}
or {"ok": false, "error": MESSAGE}. Each request has its own connection, so the client is
thread-safe without a lock. Ops: set_faults {"faults": DiskFaults dict}, clear_faults,
lose_unsynced {"torn": bool, "seed": int}, sync_all, status.

Unix socket paths are limited to 107 bytes; a longer one (a deep node directory) is reached
through /proc/self/fd/N/control.sock, N an open descriptor of its directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from cluster.faultfs.durability import LossReport
from cluster.faultfs.errors import FaultFSError
from cluster.faultfs.faults import DiskFaults

log = logging.getLogger(__name__)

Handler = Callable[[dict], object]
_LONGEST_SOCKET_PATH = 100


@contextlib.contextmanager
def reachable(path: Path) -> Iterator[str]:
    """A path to the socket short enough for bind and connect."""
    if len(str(path)) <= _LONGEST_SOCKET_PATH:
        yield str(path)
        return
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{path.name}"
    finally:
        os.close(directory)


class ControlServer:
    def __init__(self, path: Path, handlers: dict[str, Handler]) -> None:
        self._handlers = handlers
        path.unlink(missing_ok=True)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with reachable(path) as address:
            self._listener.bind(address)
        self._listener.listen(16)

    def start(self) -> None:
        threading.Thread(target=self._accept, name="faultfs-control", daemon=True).start()

    def _accept(self) -> None:
        while True:
            connection, _ = self._listener.accept()
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rwb") as stream:
            line = stream.readline()
            if line:
                stream.write(json.dumps(self._handle(line)).encode() + b"\n")
                stream.flush()

    def _handle(self, line: bytes) -> dict:
        try:
            request = json.loads(line)
            handler = self._handlers.get(request.get("op"))
            if handler is None:
                return {"ok": False, "error": f"unknown op {request.get('op')!r}; known: {sorted(self._handlers)}"}
            return {"ok": True, "result": handler(request)}
        except Exception as error:  # every failure is the client's answer, never the daemon's end
            log.exception("control request %r failed", line)
            return {"ok": False, "error": f"{type(error).__name__}: {error}"}


class DiskControl:
    """Client of one mount's control socket; thread-safe, with short timeouts."""

    def __init__(self, socket_path: Path, timeout: float = 10.0) -> None:
        self.socket_path = Path(socket_path)
        self._timeout = timeout

    def set_faults(self, faults: DiskFaults) -> None:
        self._call("set_faults", faults=faults.to_dict())

    def clear_faults(self) -> None:
        self._call("clear_faults")

    def lose_unsynced(self, torn: bool = False, seed: int = 0) -> LossReport:
        """Power loss: every write, truncate and directory change not made durable by an fsync
        (of the file, resp. of its directory) is thrown away; with torn=True each file's last
        unsynced write survives as a random-length prefix. Kill the node first."""
        return LossReport.from_dict(self._call("lose_unsynced", torn=torn, seed=seed, timeout=60.0))

    def sync_all(self) -> None:
        self._call("sync_all", timeout=60.0)

    def status(self) -> dict:
        return self._call("status")

    def _call(self, op: str, timeout: float | None = None, **arguments: object) -> dict:
        request = json.dumps({"op": op, **arguments}).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(timeout or self._timeout)
                with reachable(self.socket_path) as address:
                    connection.connect(address)
                connection.sendall(request)
                with connection.makefile("rb") as stream:
                    line = stream.readline()
        except OSError as error:
            raise FaultFSError(f"fault filesystem control {self.socket_path}: {op} failed: {error}") from error
        if not line:
            raise FaultFSError(f"fault filesystem control {self.socket_path}: {op}: no answer")
        answer = json.loads(line)
        if not answer["ok"]:
            raise FaultFSError(f"fault filesystem control {self.socket_path}: {op}: {answer['error']}")
        return answer["result"]
