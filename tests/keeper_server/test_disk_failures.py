"""A write or fsync of the raft log that fails (EIO, ENOSPC) is never acknowledged: the server
fail-stops, exiting non-zero with a line naming the file and the error, as ZooKeeper's sync thread
does, and the client of the pending write never hears success. forceSync=no reaches storage: such
a server never fsyncs at all."""

from __future__ import annotations

import asyncio
import errno
import random
import time
from pathlib import Path

import pytest

from cluster.keeper.raft import Config, Entry, Message, MessageType, Raft, ReadState, Snapshot, SoftState
from cluster.keeper.server.disk_errors import DiskFailure
from cluster.keeper.server.raft_driver import RaftDriver
from cluster.keeper.server.storage import RaftStorage
from tests.facilities import require
from tests.keeper_server import failing_disk
from tests.keeper_server.ensemble import Ensemble, KeeperProcess
from tests.keeper_server.failing_disk import failing

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException
except ImportError:
    KAZOO_MISSING = True
else:
    KAZOO_MISSING = False

EXIT_WAIT_S = 15.0
LEADER, FOLLOWER, TERM = 2, 1, 5


# ------------------------------------------------------------------ the Ready loop, in process


class _Application:
    """Records what the driver would tell the world: messages sent and entries applied."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.applied: list[Entry] = []

    def before_ready(self) -> None:
        pass

    def on_soft_state(self, soft: SoftState) -> None:
        pass

    def send(self, message: Message) -> None:
        self.sent.append(message)

    def restore(self, snapshot: Snapshot) -> None:
        pass

    def apply(self, entries: tuple[Entry, ...]) -> None:
        self.applied.extend(entries)

    def on_read_states(self, read_states: tuple[ReadState, ...]) -> None:
        pass

    def snapshot(self) -> tuple[int, bytes]:
        return 0, b""


def _follower_steps(
    directory: Path, messages: list[Message], fail: str | None
) -> tuple[_Application, list[BaseException]]:
    """A follower's Ready loop takes `messages`, the last with its disk failing `fail` ops."""
    storage = RaftStorage(directory, directory, sync=True)
    raft = Raft(Config(FOLLOWER, (1, 2, 3)), random.Random(1), storage.load())
    application, fatal = _Application(), []
    driver = RaftDriver(raft, storage, application, 1000, fatal.append)

    async def run() -> None:
        for number, message in enumerate(messages, start=1):
            armed = fail is not None and number == len(messages)
            sent = len(application.sent)
            with failing(directory, errno.EIO if fail == "fsync" else errno.ENOSPC, fail or "write", lambda: armed):
                raft.step(message)
                driver.schedule()
                for _ in range(500):  # until the Ready is answered or the server fails
                    await asyncio.sleep(0.01)
                    if fatal or len(application.sent) > sent:
                        break
        await driver.stop()

    asyncio.run(run())
    return application, fatal


def _vote_request() -> Message:
    return Message(MessageType.VOTE, src=LEADER, dst=FOLLOWER, term=TERM, force=True)


def _append(index: int, commit: int) -> Message:
    entries = (Entry(TERM, index, b"txn"),) if index else ()
    kind = MessageType.APPEND if entries else MessageType.HEARTBEAT
    return Message(kind, src=LEADER, dst=FOLLOWER, term=TERM, log_term=0, index=index - 1 if index else 0,
                   entries=entries, commit=commit)


def test_a_vote_is_granted_only_once_it_is_durable(tmp_path: Path) -> None:
    application, fatal = _follower_steps(tmp_path / "ok", [_vote_request()], fail=None)
    assert not fatal
    assert [(m.type, m.reject) for m in application.sent] == [(MessageType.VOTE_RESP, False)]

    application, fatal = _follower_steps(tmp_path / "eio", [_vote_request()], fail="fsync")
    assert application.sent == []
    assert len(fatal) == 1 and isinstance(fatal[0], DiskFailure)
    assert "raft.log" in str(fatal[0]) and "Input/output error" in str(fatal[0])


def test_an_append_the_disk_refused_is_never_acknowledged(tmp_path: Path) -> None:
    application, fatal = _follower_steps(tmp_path, [_append(1, 0)], fail="write")
    assert not any(m.type is MessageType.APPEND_RESP for m in application.sent)
    assert len(fatal) == 1 and "No space left on device" in str(fatal[0])


def test_a_commit_written_on_the_event_loop_that_fails_stops_before_applying(tmp_path: Path) -> None:
    """A Ready that only moves the commit index is written on the event loop, not the fsync worker:
    its failure stops the server just the same, and the entry is not applied."""
    application, fatal = _follower_steps(tmp_path, [_append(1, 0), _append(0, 1)], fail="write")
    assert application.applied == []
    assert len(fatal) == 1 and isinstance(fatal[0], DiskFailure)


# ------------------------------------------------------------------ keeper processes


def _start_failing(server: KeeperProcess, error: str, ops: str, switch: Path) -> None:
    server.start(failing_disk.__file__, str(server.directory / "data"), error, ops, str(switch))


def _exit_code(server: KeeperProcess) -> int | None:
    deadline = time.monotonic() + EXIT_WAIT_S
    while time.monotonic() < deadline:
        if (code := server.process.exit_code()) is not None:
            return code
        time.sleep(0.05)
    return None


def _client(hosts: str) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=30)
    return client


@pytest.mark.parametrize(("error", "ops", "message"), [
    ("EIO", "fsync", "Input/output error"),
    ("ENOSPC", "write", "No space left on device"),
])
def test_a_failed_log_write_exits_the_server_and_the_write_is_not_acknowledged(
    tmp_path: Path, error: str, ops: str, message: str
) -> None:
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    ensemble = Ensemble.create(tmp_path, 1)
    server, switch = ensemble.servers[0], tmp_path / "disk-fails"
    _start_failing(server, error, ops, switch)
    try:
        ensemble.wait_until_serving()
        client = _client(server.address)
        client.create("/before", b"kept")
        switch.touch()
        with pytest.raises(KazooException):
            client.create("/during", b"unknown")
        client.stop()
        assert _exit_code(server) == 1, server.log_text()[-3000:]
        log = server.log_text()
        assert "fail-stop" in log and "raft.log" in log and message in log

        switch.unlink()
        ensemble.start()
        client = _client(server.address)
        assert client.get("/before")[0] == b"kept"
        client.stop()
    finally:
        ensemble.stop()


def test_a_leader_whose_fsync_fails_exits_without_answering_and_the_others_carry_on(tmp_path: Path) -> None:
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    ensemble = Ensemble.create(tmp_path, 3)
    for server in ensemble.servers:
        _start_failing(server, "EIO", "fsync", tmp_path / f"disk-fails-{server.server_id}")
    try:
        ensemble.wait_until_serving()
        leader = ensemble.leader()
        client = _client(leader.address)
        client.create("/before", b"kept")
        (tmp_path / f"disk-fails-{leader.server_id}").touch()
        with pytest.raises(KazooException):
            client.create("/during", b"unknown")
        client.stop()
        assert _exit_code(leader) == 1, leader.log_text()[-3000:]
        assert "fail-stop" in leader.log_text()
        ensemble.wait_until_serving()
        survivor = next(s for s in ensemble.servers if s.running)
        client = _client(survivor.address)
        client.sync("/")
        assert client.get("/before")[0] == b"kept"
        client.create("/after", b"served")
        client.stop()
    finally:
        ensemble.stop()


def test_force_sync_no_never_fsyncs_and_force_sync_yes_refuses_a_disk_that_cannot(tmp_path: Path) -> None:
    """Every fsync under the data directory fails from the start: without forceSync keeper serves
    on (through snapshots and log rewrites too), with it keeper cannot even create its log."""
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    switch = tmp_path / "disk-fails"
    switch.touch()
    unsynced = Ensemble.create(tmp_path / "no", 1, extra="forceSync=no\nsnapCount=5\n")
    server = unsynced.servers[0]
    _start_failing(server, "EIO", "fsync", switch)
    try:
        unsynced.wait_until_serving()
        client = _client(server.address)
        for number in range(30):
            client.create(f"/n{number}", b"v")
        client.stop()
        assert server.running
        assert (server.directory / "data" / "raft.snapshot").exists()
    finally:
        unsynced.stop()

    synced = Ensemble.create(tmp_path / "yes", 1)
    server = synced.servers[0]
    _start_failing(server, "EIO", "fsync", switch)
    assert _exit_code(server) == 1
    assert "refusing to start" in server.log_text() and "raft.log" in server.log_text()
