"""ClientConnection driven by hand, with no event loop: bytes in, bytes out, against a real
standalone KeeperNode whose Ready loop runs only when a test says so.

Running the node is what applies writes and passes read-index barriers, so a test can look at
what a connection answers before and after: which answers wait for which.
"""

from __future__ import annotations

import struct
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster.keeper.config import KeeperConfig
from cluster.keeper.errors import ErrorCode
from cluster.keeper.jute import EventType, KeeperState, OpCode, Xid
from cluster.keeper.jute.records import (
    ConnectRequest,
    ConnectResponse,
    CreateRequest,
    ExistsRequest,
    GetDataRequest,
    GetDataResponse,
    ReplyHeader,
    RequestHeader,
    SetDataRequest,
    SyncRequest,
    WatcherEvent,
)
from cluster.keeper.jute.wire import decode, encode
from cluster.keeper.raft import DurableState
from cluster.keeper.server.client_connection import MAX_QUEUED, ClientConnection
from cluster.keeper.server.node import ELECTION_TICKS, KeeperNode
from cluster.keeper.server.peer_messages import PeerMessage
from cluster.keeper.server.stats import ServerStats


class _NoPeers:
    def send(self, peer_id: int, message: PeerMessage) -> None:
        raise AssertionError("a standalone node has no peers to send to")


class Server:
    """One standalone node and the connections made to it; `run` is its Ready loop, one pass."""

    def __init__(self, linearizable_reads: bool = False) -> None:
        standalone = KeeperConfig.from_properties({"dataDir": "unused", "clientPort": "2181"})
        config = replace(standalone, linearizable_reads=linearizable_reads)
        self.node = KeeperNode(config, DurableState(), _NoPeers(), wall_clock=lambda: 1_700_000_000.0)
        self.stats = ServerStats()
        for _ in range(2 * ELECTION_TICKS):
            self.node.tick()
            self.run()
        assert self.node.serving

    def run(self) -> None:
        node, raft = self.node, self.node.raft
        node.before_ready()
        while raft.has_ready():
            ready = raft.ready()
            if ready.soft_state is not None:
                node.on_soft_state(ready.soft_state)
            if ready.committed_entries:
                node.apply(ready.committed_entries)
            if ready.read_states:
                node.on_read_states(ready.read_states)
            raft.advance()
            node.before_ready()

    def connect(self) -> Client:
        return Client(self)


class Client:
    """The socket's side of one connection: what it was woken for, and everything it was given to send."""

    def __init__(self, server: Server) -> None:
        self.wakes = 0
        self.connection = ClientConnection(
            server.node, server.stats, lambda word: f"answer to {word.decode()}", "10.0.0.1:5000", self._wake,
            clock=lambda: 0.0,
        )

    def _wake(self) -> None:
        self.wakes += 1

    def send(self, data: bytes) -> None:
        self.connection.receive_data(data)

    def received(self) -> bytes:
        return self.connection.data_to_send()

    def open_session(self, server: Server) -> int:
        self.send(connect())
        server.run()
        response = decode(ConnectResponse, frames(self.received())[0])
        assert response.session_id
        return response.session_id


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def frames(data: bytes) -> list[bytes]:
    payloads = []
    while data:
        (length,) = struct.unpack(">i", data[:4])
        payloads.append(data[4 : 4 + length])
        data = data[4 + length :]
    return payloads


def connect(timeout_ms: int = 10_000) -> bytes:
    return frame(encode(ConnectRequest(0, 0, timeout_ms, 0, bytes(16), False)))


def request(xid: int, op: int, record: object = None) -> bytes:
    return frame(encode(RequestHeader(xid, op)) + (b"" if record is None else encode(record)))


def create(xid: int, path: str, data: bytes = b"") -> bytes:
    return request(xid, OpCode.CREATE, CreateRequest(path, data, [], 0))


def get_data(xid: int, path: str, watch: bool = False) -> bytes:
    return request(xid, OpCode.GET_DATA, GetDataRequest(path, watch))


def replies(data: bytes) -> list[tuple[ReplyHeader, bytes]]:
    return [(decode(ReplyHeader, payload[:16]), payload[16:]) for payload in frames(data)]


def test_a_four_letter_word_is_answered_in_text_and_the_connection_closes() -> None:
    server = Server()
    client = server.connect()
    client.send(b"ru")
    assert client.received() == b"" and not client.connection.closed
    client.send(b"ok")
    assert client.connection.closed and client.wakes == 1
    assert client.received() == b"answer to ruok"
    assert server.stats.packets_sent == 0, "a four-letter answer is not a packet"


def test_a_connect_opens_a_session_that_the_connection_holds() -> None:
    server = Server()
    client = server.connect()
    client.send(connect(timeout_ms=10_000))
    assert client.received() == b"", "the session is created through the log first"
    server.run()
    response = decode(ConnectResponse, frames(client.received())[0])
    assert response.session_id in server.node.replica.sessions
    assert response.time_out == 10_000 and len(response.passwd) == 16
    assert server.node.holders[response.session_id] is client.connection


def test_requests_sent_with_the_connect_are_answered_after_it_in_order() -> None:
    server = Server()
    client = server.connect()
    client.send(connect() + create(1, "/early", b"v") + get_data(2, "/early"))
    server.run()
    server.run()
    payloads = frames(client.received())
    assert decode(ConnectResponse, payloads[0]).session_id
    (created, _), (read, body) = replies(b"".join(frame(p) for p in payloads[1:]))
    assert (created.xid, created.err, read.xid, read.err) == (1, 0, 2, 0)
    assert decode(GetDataResponse, body).data == b"v"


def test_a_read_waits_for_the_write_before_it_and_one_with_nothing_ahead_is_answered_at_once() -> None:
    server = Server()
    client = server.connect()
    client.open_session(server)
    client.send(get_data(1, "/missing"))
    ((answered, _),) = replies(client.received())
    assert (answered.xid, answered.err) == (1, ErrorCode.NONODE)
    client.send(create(2, "/n", b"written") + get_data(3, "/n"))
    assert client.received() == b"", "the read runs only after the write before it is answered"
    server.run()
    (created, _), (read, body) = replies(client.received())
    assert (created.xid, read.xid, read.err) == (2, 3, 0)
    assert decode(GetDataResponse, body).data == b"written"


def test_a_sync_and_with_linearizable_reads_every_read_wait_for_a_read_index_barrier() -> None:
    server = Server(linearizable_reads=True)
    client = server.connect()
    client.open_session(server)
    client.send(request(1, OpCode.SYNC, SyncRequest("/")) + get_data(2, "/"))
    assert client.received() == b""
    server.run()
    assert [header.xid for header, _ in replies(client.received())] == [1, 2]


def test_an_op_keeper_does_not_implement_is_answered_unimplemented_in_its_place() -> None:
    server = Server()
    client = server.connect()
    client.open_session(server)
    unknown_to_the_codec, decoded_but_not_served = 999, OpCode.WHO_AM_I
    client.send(request(1, unknown_to_the_codec) + request(2, decoded_but_not_served) + request(3, OpCode.PING))
    answers = [(header.xid, header.err) for header, _ in replies(client.received())]
    assert answers == [(1, ErrorCode.UNIMPLEMENTED), (2, ErrorCode.UNIMPLEMENTED), (Xid.PING, 0)]
    assert not client.connection.closed


def test_broken_framing_drops_the_connection_and_its_hold_on_the_session() -> None:
    server = Server()
    client = server.connect()
    session = client.open_session(server)
    client.send(struct.pack(">i", -1))
    assert client.connection.closed and client.wakes >= 1
    assert session not in server.node.holders
    assert session in server.node.replica.sessions, "the session outlives its connection"


def test_too_many_unanswered_requests_pause_reading_until_the_answers_catch_up() -> None:
    server = Server()
    client = server.connect()
    client.open_session(server)
    client.send(b"".join(create(xid, f"/n{xid}") for xid in range(1, MAX_QUEUED)))
    assert not client.connection.reading_paused
    client.send(create(MAX_QUEUED, "/last"))
    assert client.connection.reading_paused and client.connection.queued == MAX_QUEUED
    server.run()
    assert not client.connection.reading_paused and client.connection.queued == 0
    assert len(replies(client.received())) == MAX_QUEUED


def test_a_fired_watch_reaches_its_connection_as_an_event() -> None:
    server = Server()
    watcher, writer = server.connect(), server.connect()
    watcher.open_session(server)
    writer.open_session(server)
    writer.send(create(1, "/w", b"1"))
    server.run()
    writer.received()
    watcher.send(get_data(1, "/w", watch=True))
    watcher.received()
    writer.send(request(2, OpCode.SET_DATA, SetDataRequest("/w", b"2", -1)))
    server.run()
    ((event_header, body),) = replies(watcher.received())
    assert event_header.xid == Xid.NOTIFICATION
    assert decode(WatcherEvent, body) == WatcherEvent(EventType.NODE_DATA_CHANGED, KeeperState.SYNC_CONNECTED, "/w")


def test_closing_the_session_answers_the_close_then_closes_the_connection() -> None:
    server = Server()
    client = server.connect()
    session = client.open_session(server)
    client.send(request(1, OpCode.CLOSE_SESSION))
    server.run()
    ((closed, _),) = replies(client.received())
    assert closed.xid == 1 and client.connection.closed
    assert session not in server.node.replica.sessions


CONVERSATION = (
    connect() + create(1, "/a", b"x") + get_data(2, "/a", watch=True)
    + request(3, OpCode.EXISTS, ExistsRequest("/b", True)) + request(4, OpCode.SYNC, SyncRequest("/"))
    + request(5, OpCode.SET_DATA, SetDataRequest("/a", b"y", -1))
    + get_data(6, "/a") + request(7, OpCode.PING)
)
"""One client's pipelined conversation: the connect, writes, watched reads, a sync, a ping."""

chunkings = st.lists(st.integers(0, len(CONVERSATION)), max_size=12).map(
    lambda cuts: [CONVERSATION[start:end] for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(CONVERSATION)])]
)


def _answers(chunks: list[bytes], run_after: list[bool]) -> bytes:
    """Everything the connection gives its socket, the node running after the chunks `run_after` says."""
    server = Server()
    client = server.connect()
    answered = b""
    for chunk, run in zip(chunks, run_after):
        client.send(chunk)
        if run:
            server.run()
        answered += client.received()
    for _ in range(3):
        server.run()
    return answered + client.received()


@settings(max_examples=50, deadline=None)
@given(chunks=chunkings)
def test_however_the_bytes_are_split_the_answers_are_the_same_bytes(chunks: list[bytes]) -> None:
    assert _answers(chunks, [False] * len(chunks)) == _answers([CONVERSATION], [False])


@settings(max_examples=50, deadline=None)
@given(chunks=chunkings, runs=st.lists(st.booleans(), min_size=13, max_size=13))
def test_whenever_the_node_runs_answers_keep_request_order_and_reads_see_the_writes_before_them(
    chunks: list[bytes], runs: list[bool]
) -> None:
    connected, *rest = frames(_answers(chunks, runs))
    assert decode(ConnectResponse, connected).session_id
    answers = [(header, body) for header, body in replies(b"".join(map(frame, rest))) if header.xid != Xid.NOTIFICATION]
    assert [header.xid for header, _ in answers] == [1, 2, 3, 4, 5, 6, Xid.PING]
    assert all(header.err == 0 for header, _ in answers[:2]) and answers[2][0].err == ErrorCode.NONODE
    assert decode(GetDataResponse, answers[1][1]).data == b"x" and decode(GetDataResponse, answers[5][1]).data == b"y"
