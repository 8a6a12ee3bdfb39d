"""Bad input on a raw socket: that connection gets an error or is closed, and nobody else notices.

The bytes are built by hand (raw_jute), independently of keeper's own codec.
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
from tests.keeper_ensemble.raw_jute import (
    CREATE, GET_DATA, OPEN_ACL, connect_request, frame, handshake, read_reply, request, ustring,
)

WAIT = 30
UNKNOWN_OP = 9999
MAX_BUFFER = 1 << 20
"""jute.maxbuffer's default: both kinds refuse frames above it."""


def answer(sock: socket.socket, xid: int) -> str:
    """'closed', or 'error N' / 'ok' from the reply to `xid`; notifications and pings in between are skipped."""
    while (reply := read_reply(sock)) is not None:
        if reply.xid == xid:
            return f"error {reply.error}" if reply.error else "ok"
    return "closed"


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
