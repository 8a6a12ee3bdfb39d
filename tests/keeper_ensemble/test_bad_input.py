"""Bad input on a raw socket: that connection gets an error or is closed, and nobody else notices.

The bytes are built here with struct, independently of keeper's own jute codec,
from ZooKeeper's wire format: a 4-byte big-endian length before every frame, a
ConnectRequest first, then RequestHeader(xid, type) plus the op's record, and
ReplyHeader(xid, zxid, err) before every answer.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Callable, Iterator

import pytest
from kazoo.client import KazooClient

from cluster.deploy.keeper_ensemble import KeeperEnsemble, Kind
from tests.keeper_ensemble.conftest import Connect, start_ensemble

WAIT = 30
GET_DATA, CREATE, EXISTS = 4, 1, 3
UNKNOWN_OP = 9999
MAX_BUFFER = 1 << 20
"""jute.maxbuffer's default: both kinds refuse frames above it."""
OPEN_ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + struct.pack(">i", 5) + b"world" + struct.pack(">i", 6) + b"anyone"


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def ustring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def connect_request() -> bytes:
    """protocolVersion, lastZxidSeen, timeOut (ms), sessionId, passwd (16 zero bytes), readOnly."""
    return frame(struct.pack(">iqiqi", 0, 0, 10_000, 0, 16) + bytes(16) + b"\x00")


def request(xid: int, op: int, record: bytes) -> bytes:
    return frame(struct.pack(">ii", xid, op) + record)


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """The next `size` bytes, or None when the server closed the connection first."""
    data = b""
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def handshake(sock: socket.socket) -> None:
    sock.sendall(connect_request())
    length = read_exactly(sock, 4)
    assert length is not None, "the server closed a well-formed connect"
    body = read_exactly(sock, struct.unpack(">i", length)[0])
    assert body is not None and struct.unpack(">iiq", body[:16])[2] != 0, "the connect got no session"


def answer(sock: socket.socket, xid: int) -> str:
    """'closed', or 'error N' / 'ok' from the reply to `xid`; notifications and pings in between are skipped."""
    while True:
        length = read_exactly(sock, 4)
        if length is None:
            return "closed"
        body = read_exactly(sock, struct.unpack(">i", length)[0])
        if body is None:
            return "closed"
        reply_xid, _zxid, error = struct.unpack(">iqi", body[:16])
        if reply_xid == xid:
            return f"error {error}" if error else "ok"


Case = Callable[[socket.socket], str]


def an_http_request(sock: socket.socket) -> str:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: keeper\r\n\r\n")
    return answer(sock, 0)


def an_oversized_length_before_connect(sock: socket.socket) -> str:
    sock.sendall(struct.pack(">i", 0x7FFFFFFF) + bytes(64))
    return answer(sock, 0)


def a_negative_length(sock: socket.socket) -> str:
    sock.sendall(struct.pack(">i", -5) + bytes(16))
    return answer(sock, 0)


def a_connect_too_short_for_its_fields(sock: socket.socket) -> str:
    sock.sendall(frame(struct.pack(">ih", 0, 7)))
    return answer(sock, 0)


def a_packet_above_max_buffer(sock: socket.socket) -> str:
    handshake(sock)
    sock.sendall(struct.pack(">i", 2 * MAX_BUFFER) + struct.pack(">ii", 1, GET_DATA) + bytes(1024))
    return answer(sock, 1)


def an_unknown_op_code(sock: socket.socket) -> str:
    handshake(sock)
    sock.sendall(request(1, UNKNOWN_OP, ustring("/")))
    return answer(sock, 1)


def a_record_cut_short(sock: socket.socket) -> str:
    """getData whose path claims 1,000 bytes inside a frame of a few."""
    handshake(sock)
    sock.sendall(request(1, GET_DATA, struct.pack(">i", 1000) + b"/ab"))
    return answer(sock, 1)


def a_path_without_a_slash(sock: socket.socket) -> str:
    handshake(sock)
    sock.sendall(request(1, CREATE, ustring("no-slash") + struct.pack(">i", 0) + OPEN_ACL + struct.pack(">i", 0)))
    return answer(sock, 1)


def garbage_after_connect(sock: socket.socket) -> str:
    handshake(sock)
    sock.sendall(b"\xde\xad\xbe\xef" * 64)
    return answer(sock, 1)


def half_a_connect_then_close(sock: socket.socket) -> str:
    sock.sendall(connect_request()[:20])
    sock.close()
    return "closed"


def half_a_request_then_close(sock: socket.socket) -> str:
    handshake(sock)
    sock.sendall(request(1, GET_DATA, ustring("/") + b"\x00")[:9])
    sock.close()
    return "closed"


CASES: list[Case] = [
    an_http_request,
    an_oversized_length_before_connect,
    a_negative_length,
    a_connect_too_short_for_its_fields,
    a_packet_above_max_buffer,
    an_unknown_op_code,
    a_record_cut_short,
    a_path_without_a_slash,
    garbage_after_connect,
    half_a_connect_then_close,
    half_a_request_then_close,
]


@pytest.fixture(scope="module")
def target(kind: Kind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperEnsemble]:
    """An ensemble of the module's own, so a server that bad input did take down fails only these tests."""
    running = start_ensemble(kind, Path(tmp_path_factory.mktemp(f"bad-input-{kind}")))
    try:
        yield running
    finally:
        running.close()


def tree(client: KazooClient, root: str) -> list[tuple[str, bytes, object]]:
    client.sync(root)
    return [(root, *client.get(root))] + [
        (f"{root}/{name}", *client.get(f"{root}/{name}")) for name in sorted(client.get_children(root))
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_bad_input_closes_or_errors_only_its_own_connection(
    target: KeeperEnsemble, connect: Connect, root: str, case: Case
) -> None:
    for node in target.nodes:
        bystander = connect(node.address)
        bystander.create(f"{root}-{node.node_id}", b"before")
        bystander.create(f"{root}-{node.node_id}/child", b"child")
        session, before = bystander.client_id, tree(bystander, f"{root}-{node.node_id}")

        with socket.create_connection(("127.0.0.1", node.ports.client), timeout=WAIT) as sock:
            outcome = case(sock)
        assert outcome == "closed" or outcome.startswith("error"), f"node {node.node_id} answered {outcome}"

        assert node.is_running() and node.four_letter_word("ruok") == "imok"
        assert tree(bystander, f"{root}-{node.node_id}") == before
        assert bystander.client_id == session and bystander.connected
        assert bystander.set(f"{root}-{node.node_id}", b"after").version == 1
