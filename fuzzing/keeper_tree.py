"""The keeper's stored data as a campaign compares it, and kazoo as the real client.

The digest is the persistent znode count (mntr's znode count less its ephemerals) and, for every
path plausible requests name, whether it exists, its data and its data and ACL versions: what an
accepted create, delete, setData or setACL changes. Left out are the ephemerals (one reads
as missing) and the child counts and versions of their parents: sessions left by earlier
connections expire, taking their ephemerals with them, at times no request decides. The reads go
pipelined on a session of the harness's own, one round trip a digest (kazoo took ten times as long).
"""

from __future__ import annotations

import struct
import time

from kazoo.client import KazooClient

from cluster.deploy.keeper_ensemble import EnsembleNode
from cluster.deploy.ports import HOST
from cluster.keeper.jute.codes import OpCode
from cluster.keeper.jute.records import ConnectResponse, GetDataRequest, GetDataResponse, RequestHeader, SyncRequest
from cluster.keeper.jute.wire import decode, encode
from fuzzing.batch_reading import deadline_after
from fuzzing.byte_mutations import framed
from fuzzing.connection import CLOSED, Connection
from fuzzing.jute_requests import PATHS, plausible_connect

SESSION_WAIT_S = 30.0
"""How long the digest waits for a session: a server between leaders (an election on a loaded machine) refuses
clients until one leads."""
SESSION_TIMEOUT_MS = 30_000
"""Asked for; a keeper grants at most 20 ticks (10 s at the fuzzed ensembles' tickTime of 500 ms), so a
session idle longer (a real-client check, a trace) expires and the next digest opens another."""
_REPLY = struct.Struct(">iqi")


class TreeWatchError(RuntimeError):
    """The digest's own session failed: the keeper did not serve a plain read."""


class TreeWatch:
    """A session on `node` kept for the campaign's digests, opened again if the keeper ended it."""

    def __init__(self, node: EnsembleNode) -> None:
        self.node = node
        self._connection: Connection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def settle(self) -> None:
        """Returns once the node has applied every write committed before the call (a sync)."""
        self._ask([framed(encode(RequestHeader(1, OpCode.SYNC)) + encode(SyncRequest("/")))])

    def digest(self) -> object:
        fields = dict(line.split("\t", 1) for line in self.node.four_letter_word("mntr").splitlines() if "\t" in line)
        persistent = int(fields["zk_znode_count"]) - int(fields["zk_ephemerals_count"])
        replies = self._ask([framed(encode(RequestHeader(at, OpCode.GET_DATA)) + encode(GetDataRequest(path, False)))
                             for at, path in enumerate(PATHS, 1)])
        return persistent, tuple(_znode(path, *reply) for path, reply in zip(PATHS, replies))

    def _ask(self, frames: list[bytes]) -> list[tuple[int, bytes]]:
        """(err, body) of each request's reply, in order, on the kept session (a new one if it ended)."""
        for attempt in range(2):
            connection = self._session()
            connection.send(b"".join(frames))
            replies = []
            deadline = deadline_after(0, 10)
            while len(replies) < len(frames):
                payload = connection.read_frame(deadline)
                if payload is CLOSED:
                    break
                xid, _, err = _REPLY.unpack_from(payload)
                if xid > 0:
                    replies.append((err, payload[_REPLY.size:]))
            else:
                return replies
            self.close()
        raise TreeWatchError("the keeper closed the digest's session twice")

    def _session(self) -> Connection:
        give_up = time.monotonic() + SESSION_WAIT_S
        while self._connection is None:
            connection = Connection(HOST, self.node.ports.client)
            connection.send(plausible_connect(SESSION_TIMEOUT_MS))
            payload = connection.read_frame(deadline_after(0, 10))
            if payload is not CLOSED and decode(ConnectResponse, payload).session_id:
                self._connection = connection
                break
            connection.close()
            if time.monotonic() > give_up:
                mode = self.node.mode() or "not serving"
                raise TreeWatchError(f"no session for the digest within {SESSION_WAIT_S:g} s (the node: {mode})")
            time.sleep(0.2)
        return self._connection


def _znode(path: str, err: int, body: bytes) -> tuple:
    if err:
        return (path,)
    got = decode(GetDataResponse, body)
    if got.stat.ephemeral_owner:
        return (path,)  # it goes when its session expires: told apart from a missing znode, a false alarm
    return path, got.data, got.stat.version, got.stat.aversion


def started_client(hosts: str) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=15)
    return client


def stopped(client: KazooClient) -> None:
    client.stop()
    client.close()


def kazoo_round_trip(hosts: str, number: int) -> str | None:
    """None when kazoo writes a znode and reads it back; else what went wrong."""
    path, data = f"/fuzz-client/check-{number}", f"check {number}".encode()
    try:
        client = started_client(hosts)
        try:
            client.create(path, data)
            read, _ = client.get(path)
            client.delete(path)
        finally:
            stopped(client)
    except Exception as error:  # any failure of the real client is the finding, whatever its type
        return f"kazoo failed: {type(error).__name__}: {error}"
    return None if read == data else f"kazoo read {read!r} back, not {data!r}"
