"""A blocking TCP connection that sends bytes as a fuzzer wants them and reads size-prefixed frames back.

Sending may split the bytes into chunks with a pause between them (a slow sender, a frame
across several reads of the server). Reading distinguishes the three endings a judge needs:
a frame, the server closing the connection, and nothing before the deadline.
"""

from __future__ import annotations

import random
import socket
import struct
import time

_SIZE = struct.Struct(">i")
CLOSED = None
"""What read_frame returns when the server closed the connection."""


class NoAnswer(Exception):
    """Nothing (or only part of a frame) arrived before the deadline."""


class Connection:
    def __init__(self, host: str, port: int, connect_timeout_s: float = 10) -> None:
        self._socket = socket.create_connection((host, port), timeout=connect_timeout_s)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()
        self.closed_by_server = False

    def send(self, data: bytes, rng: random.Random | None = None, slow: bool = False) -> bool:
        """Sends `data`, in a few chunks with short pauses if `slow`; False if the server had closed."""
        try:
            if not slow or rng is None or len(data) < 2:
                self._socket.sendall(data)
                return True
            cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 4))))
            for start, end in zip([0, *cuts], [*cuts, len(data)]):
                self._socket.sendall(data[start:end])
                time.sleep(0.001)
            return True
        except OSError:
            return False

    def end_input(self) -> None:
        """No more bytes from us: the server sees end of stream after what it has."""
        try:
            self._socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def read_frame(self, deadline: float) -> bytes | None:
        """The next frame's payload, or CLOSED; NoAnswer when the deadline passes first."""
        while True:
            if len(self._buffer) >= 4:
                size = _SIZE.unpack_from(self._buffer)[0]
                if size < 0:
                    raise ValueError(f"the server sent a negative frame size {size}")
                if len(self._buffer) >= 4 + size:
                    payload = bytes(self._buffer[4 : 4 + size])
                    del self._buffer[: 4 + size]
                    return payload
            if self.closed_by_server:
                return CLOSED
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoAnswer(f"{len(self._buffer)} bytes of an answer before the deadline")
            self._socket.settimeout(left)
            try:
                chunk = self._socket.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed_by_server = True
            self._buffer += chunk

    def close(self) -> None:
        self._socket.close()
