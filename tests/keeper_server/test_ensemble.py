"""Three `python -m cluster.keeper.main` processes driven by kazoo and by raw jute bytes."""

from __future__ import annotations

import signal
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.keeper.jute import ErrorCode, OpCode
from cluster.keeper.jute.framing import frame
from cluster.keeper.jute.records import ConnectRequest, CreateRequest, ExistsRequest
from cluster.keeper.jute.wire import encode
from tests.facilities import require
from tests.keeper_server.ensemble import Ensemble, RawClient, four_letter_word, srvr_field

try:
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState
except ImportError:
    KAZOO_MISSING = True
else:
    KAZOO_MISSING = False

pytestmark = pytest.mark.timeout(180)
WAIT_S = 30.0
SNAP_COUNT = 25
"""Small, so that servers compact their logs and a follower that was down gets a snapshot."""


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ensemble]:
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    cluster = Ensemble.create(tmp_path_factory.mktemp("ensemble"), 3, extra=f"snapCount={SNAP_COUNT}\n")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _client(hosts: str, timeout: float = 10.0) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=timeout, connection_retry={"max_tries": -1, "delay": 0.1})
    client.start(timeout=WAIT_S)
    return client


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting {WAIT_S} s for {what}")


def test_one_leader_and_the_four_letter_words(ensemble: Ensemble) -> None:
    modes = sorted(server.mode() or "down" for server in ensemble.servers)
    assert modes == ["follower", "follower", "leader"]
    port = ensemble.servers[0].client_port
    assert four_letter_word(port, "ruok") == "imok"
    assert four_letter_word(port, "isro") == "rw"
    assert (srvr_field(port, "Zxid") or "").startswith("0x")
    assert "Clients:" in four_letter_word(port, "stat")
    mntr = dict(line.split("\t", 1) for line in four_letter_word(port, "mntr").splitlines())
    assert mntr["zk_server_state"] in ("leader", "follower") and int(mntr["zk_znode_count"]) >= 4


def test_crud_through_a_follower_with_sequential_nodes_multi_and_stale_versions(ensemble: Ensemble) -> None:
    from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

    client = _client(ensemble.followers()[0].address)
    try:
        client.create("/crud/a", b"one", makepath=True)
        with pytest.raises(NodeExistsError):
            client.create("/crud/a")
        data, stat = client.get("/crud/a")
        assert (data, stat.version) == (b"one", 0)
        assert client.set("/crud/a", b"two", version=0).version == 1
        with pytest.raises(BadVersionError):
            client.set("/crud/a", b"three", version=0)
        first = client.create("/crud/seq-", sequence=True)
        second = client.create("/crud/seq-", sequence=True)
        assert first < second and first.startswith("/crud/seq-")
        transaction = client.transaction()
        transaction.create("/crud/t")
        transaction.check("/crud/a", 99)
        results = transaction.commit()
        assert client.exists("/crud/t") is None and isinstance(results[1], BadVersionError)
        client.delete("/crud/a")
        with pytest.raises(NoNodeError):
            client.get("/crud/a")
    finally:
        client.stop()
        client.close()


def test_a_write_through_one_follower_is_read_after_sync_on_the_other(ensemble: Ensemble) -> None:
    first, second = ensemble.followers()
    writer, reader = _client(first.address), _client(second.address)
    try:
        for n in range(20):
            writer.create(f"/synced-{n}", str(n).encode())
            reader.sync("/")
            assert reader.get(f"/synced-{n}")[0] == str(n).encode()
    finally:
        for client in (writer, reader):
            client.stop()
            client.close()


def test_a_sessions_pipelined_reads_wait_for_its_earlier_writes(ensemble: Ensemble) -> None:
    client = _client(ensemble.followers()[0].address)
    try:
        client.create("/fifo", b"0")
        calls = []
        for n in range(1, 51):
            calls.append(client.set_async("/fifo", str(n).encode()))
            calls.append(client.get_async("/fifo"))
        results = [call.get(timeout=WAIT_S) for call in calls]
        reads = [data for data, _ in results[1::2]]
        assert reads == [str(n).encode() for n in range(1, 51)]
        assert [stat.version for stat in results[0::2]] == list(range(1, 51))
    finally:
        client.stop()
        client.close()


def test_an_ephemeral_goes_and_its_watch_fires_once_its_session_expires(ensemble: Ensemble) -> None:
    owner = RawClient(ensemble.followers()[0].client_port)
    session = owner.connect(timeout_ms=1)  # clamped to minSessionTimeout (2 ticks: 1 s)
    assert session.time_out == 1000 and session.session_id
    header, _ = owner.request(1, OpCode.CREATE, CreateRequest("/ephemeral", b"", [], 1))
    assert header.err == 0
    watcher = _client(ensemble.followers()[1].address)
    events: list[object] = []
    seen = threading.Event()

    def watch(event: object) -> None:
        events.append(event)
        seen.set()

    try:
        assert watcher.exists("/ephemeral", watch=watch) is not None
        owner.close()  # gone without closing its session: only expiry removes the node
        assert seen.wait(WAIT_S), "the ephemeral's watch never fired"
        assert [event.type for event in events] == ["DELETED"]  # type: ignore[attr-defined]
        assert watcher.exists("/ephemeral") is None
        stale = RawClient(ensemble.followers()[0].client_port)
        expired = stale.connect(session_id=session.session_id, passwd=session.passwd or b"")
        assert (expired.session_id, expired.time_out) == (0, 0)
        stale.close()
    finally:
        watcher.stop()
        watcher.close()


def test_bad_input_costs_only_its_own_connection(ensemble: Ensemble) -> None:
    port = ensemble.followers()[0].client_port
    bystander = _client(f"127.0.0.1:{port}")
    try:
        bystander.create("/steady", b"before")
        before = sorted(bystander.get_children("/"))
        garbage = RawClient(port)
        garbage.send(b"\x00\x00\x00\x05hello-not-jute")
        assert garbage.closed_by_server()
        oversized = RawClient(port)
        oversized.send(struct.pack(">i", 0x7FFFFFF0) + b"x" * 100)
        assert oversized.closed_by_server()
        negative = RawClient(port)
        negative.send(struct.pack(">i", -5))
        assert negative.closed_by_server()
        malformed = RawClient(port)
        malformed.connect()
        malformed.send(frame(struct.pack(">ii", 7, OpCode.CREATE) + b"\xff\xff"))
        assert malformed.closed_by_server()
        unknown = RawClient(port)
        unknown.connect()
        header, _ = unknown.request(9, 999)
        assert (header.xid, header.err) == (9, ErrorCode.UNIMPLEMENTED)
        header, _ = unknown.request(10, OpCode.EXISTS, ExistsRequest("/steady", False))
        assert header.err == 0  # the connection that sent an unknown op is still served
        unknown.close()
        assert bystander.get("/steady")[0] == b"before"
        assert sorted(bystander.get_children("/")) == before
        bystander.set("/steady", b"after")
        assert bystander.get("/steady")[0] == b"after"
    finally:
        bystander.stop()
        bystander.close()


def test_a_client_keeps_its_session_and_ephemerals_when_the_leader_is_killed(ensemble: Ensemble) -> None:
    leader = ensemble.leader()
    client = _client(ensemble.hosts)
    states: list[str] = []
    client.add_listener(states.append)
    try:
        session_id = client.client_id[0]
        client.create("/survivor", b"", ephemeral=True)
        leader.stop(signal.SIGKILL)
        _wait_for(lambda: any(s.mode() == "leader" for s in ensemble.servers if s.running), "a new leader")
        client.create("/after-failover", b"x")
        assert client.client_id[0] == session_id
        assert client.exists("/survivor") is not None
        assert KazooState.LOST not in states
    finally:
        client.stop()
        client.close()
        leader.start()
        ensemble.wait_until_serving()


def test_the_whole_ensemble_restarts_from_disk_and_sessions_survive(ensemble: Ensemble) -> None:
    client = _client(ensemble.hosts, timeout=30.0)
    try:
        session_id = client.client_id[0]
        client.create("/durable", b"kept")
        client.create("/durable-ephemeral", ephemeral=True)
        for server in ensemble.servers:
            assert server.stop() == 0
        ensemble.start()
        _wait_for(lambda: client.connected, "kazoo to reconnect")
        assert client.get("/durable")[0] == b"kept"
        assert client.exists("/durable-ephemeral") is not None
        assert client.client_id[0] == session_id
    finally:
        client.stop()
        client.close()


def test_a_restarted_follower_catches_up_through_a_snapshot_of_what_it_missed(ensemble: Ensemble) -> None:
    follower = ensemble.followers()[0]
    client = _client(ensemble.leader().address)
    try:
        follower.stop(signal.SIGKILL)
        for n in range(3 * SNAP_COUNT):
            client.create(f"/missed-{n}")
        follower.start()
        ensemble.wait_until_serving()
        late = _client(follower.address)
        try:
            late.sync("/")
            assert {f"missed-{n}" for n in range(3 * SNAP_COUNT)} <= set(late.get_children("/"))
            assert "installing a snapshot" in follower.log_text()
        finally:
            late.stop()
            late.close()
    finally:
        client.stop()
        client.close()


def test_a_client_that_has_seen_more_than_the_server_is_refused(ensemble: Ensemble) -> None:
    ahead = RawClient(ensemble.servers[0].client_port)
    ahead.send(frame(encode(ConnectRequest(0, 1 << 60, 10_000, 0, b"\0" * 16, False))))
    assert ahead.closed_by_server()
    assert "client has seen zxid" in ensemble.servers[0].log_text()


def test_a_standalone_server_with_linearizable_reads_stops_gracefully(tmp_path: Path) -> None:
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    single = Ensemble.create(tmp_path, 1, extra="linearizableReads=true\n")
    single.start()
    try:
        assert single.servers[0].mode() == "standalone"
        client = _client(single.hosts)
        client.create("/linear", b"x")
        assert client.get("/linear")[0] == b"x"
        assert [client.exists(f"/linear/{n}") for n in range(5)] == [None] * 5
        client.stop()
        client.close()
    finally:
        assert single.servers[0].stop() == 0
    assert "shutting down" in single.servers[0].log_text()
