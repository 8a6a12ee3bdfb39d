"""The keeper as a fuzzing target: a real keeper server (an ensemble of one), jute frames, kazoo as the real client.

Every connection opens with a ConnectRequest: a plausible one the harness adds, or a fuzzed one
as the case itself (bad session ids and passwords, odd timeouts, mangled bytes), after which the
connection ends. The session's connection is kept from batch to batch until a case ends it. The
harness never half-closes: ZooKeeper, and keeper with it, closes a connection at end of stream
without sending the answers still pending (a session being created, a write being committed).

The expectation for a request frame is the keeper's own decoding of it, as ZooKeeper behaves: a
request it can read is answered with its xid (a ping with xid -2), an op it does not implement
with UNIMPLEMENTED, and bytes it cannot read close the connection, costing the answers still
pending on it. An answer's header must carry a known error code.
"""

from __future__ import annotations

import dataclasses
import random
import struct
from pathlib import Path

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from cluster.deploy.ports import HOST
from cluster.keeper.errors import ErrorCode
from cluster.keeper.jute.codes import OpCode, Xid
from cluster.keeper.jute.errors import JuteError, UnsupportedOperation
from cluster.keeper.jute.framing import JUTE_MAXBUFFER
from cluster.keeper.jute.messages import decode_request
from cluster.keeper.jute.records import ConnectResponse, ExistsRequest, RequestHeader, SyncRequest
from cluster.keeper.jute.wire import decode, encode
from fuzzing import jute_requests
from fuzzing.batch_reading import (MAY_PASS_UNSEEN, MAY_STAY_SILENT, MUST_ANSWER, MUST_CLOSE, Awaited, deadline_after,
                                   read_answers)
from fuzzing.byte_mutations import framed, mutate
from fuzzing.cases import BatchResult, Case
from fuzzing.connection import CLOSED, Connection, NoAnswer
from fuzzing.keeper_tree import TreeWatch, kazoo_round_trip, started_client, stopped
from fuzzing.server_log import LogWatch

SESSION_TIMEOUT_MS = 10_000
"""The longest a keeper with tickTime 500 grants: a kept connection idle while a real client is tried survives."""
FENCE_XID = 0x7FFF_FFF0
_REPLY = struct.Struct(">iqi")
_KNOWN_ERRORS = frozenset(int(code) for code in ErrorCode)
_WRITES = frozenset({OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL, OpCode.DELETE,
                     OpCode.SET_DATA, OpCode.SET_ACL, OpCode.MULTI, OpCode.RECONFIG})
"""Ops that may change the tree; a multi's reply says err 0 even when its transaction failed."""


class KeeperTarget:
    name = "keeper"
    batch_size = 8
    skip_reason = "none is skipped"

    def __init__(self, directory: Path) -> None:
        self.ensemble = KeeperEnsemble("keeper", 1, directory, tick_time=500)
        self.node = self.ensemble.nodes[0]
        with self.node.config_path.open("a") as config:
            config.write("forceSync=no\n")  # input handling is under test, not durability: no fsync per write
        self.log = LogWatch(self.node.log_path)
        self.skipped = 0
        self._xid = 0
        self._checks = 0
        self._connection: Connection | None = None
        self.tree = TreeWatch(self.node)

    def __enter__(self) -> KeeperTarget:
        self.ensemble.start()
        client = started_client(self.node.address)
        try:
            client.ensure_path("/fuzz/a")
            client.ensure_path("/fuzz-client")
        finally:
            stopped(client)
        self.log.skip_to_end()
        return self

    def __exit__(self, *exc: object) -> None:
        self._disconnect()
        self.tree.close()
        self.ensemble.close()

    def exit_code(self) -> int | None:
        return 1 if self.node.has_exited() else None

    def new_errors(self) -> list[str]:
        return self.log.new_errors()

    # --- cases ---------------------------------------------------------------------------------

    def next_case(self, rng: random.Random) -> Case:
        """One in ten a connection's first frame; the rest requests: a third each plausible, field- and byte-mutated."""
        roll = rng.random()
        if rng.random() < 0.1:
            built = jute_requests.build_connect(rng, mutate_field=roll < 0.66)
        else:
            self._xid = self._xid % 0x7FFF_0000 + 1
            built = jute_requests.build_request(self._xid, rng, mutate_field=0.33 <= roll < 0.66)
        slow = rng.random() < 0.02
        if roll < 0.66:
            return Case(built.frame, True, built.label, slow)
        mutated = mutate(built.frame, rng)
        return Case(mutated.data, mutated.framed, f"{built.label}, {mutated.kind}", slow)

    def ends_connection(self, case: Case) -> bool:
        if not case.framed or _is_connect(case):
            return True
        rule, _, op = _expectation(case.data[4:])
        return rule == MUST_CLOSE or op == OpCode.CLOSE_SESSION

    # --- judging -------------------------------------------------------------------------------

    def run_batch(self, cases: list[Case], rng: random.Random) -> BatchResult:
        """On the session's connection, kept from batch to batch until a case ends it; a fuzzed connect
        request gets a connection of its own."""
        result = BatchResult()
        if _is_connect(cases[0]):
            self._disconnect()
            connection = Connection(HOST, self.node.ports.client)
            try:
                connection.send(cases[0].data, rng, cases[0].slow)
                if cases[0].framed:
                    result.problems += _judge_fuzzed_connect(connection)
            finally:
                connection.close()
            return result
        awaited = [self._awaited(case, result) for case in cases if case.framed]
        dropping = not cases[-1].framed or (awaited[-1].rule == MUST_CLOSE)
        if dropping:
            awaited = [_unanswered_if_dropped(due) for due in awaited]
        connection, fresh = self._session_connection()
        for case in cases:
            if not connection.send(case.data, rng, case.slow):
                break
        ends = self.ends_connection(cases[-1])
        if not ends:
            connection.send(framed(encode(RequestHeader(FENCE_XID, OpCode.EXISTS)) + encode(ExistsRequest("/", False))))
            awaited.append(Awaited(MUST_ANSWER, FENCE_XID, "the fence, exists /", lambda payload: []))
        result.wrote |= not cases[-1].framed
        if fresh:
            result.problems += _judge_connect(connection, may_close=dropping)
        if not result.problems:
            result.problems += read_answers(connection, awaited, _answer_xid, deadline_after(0), after_unframed=False)
        if ends or result.problems:
            self._disconnect()
            if result.wrote:
                result.problems += self._settle()
        return result

    def _settle(self) -> list[str]:
        """Waits, on a new session's connection (kept for the next batch), for a sync: writes the dropped
        connection had handed to the node commit on their own, and must not land in the next batch's digest."""
        connection, _ = self._session_connection()
        connection.send(framed(encode(RequestHeader(FENCE_XID, OpCode.SYNC)) + encode(SyncRequest("/"))))
        problems = _judge_connect(connection, may_close=False)
        if not problems:
            problems = read_answers(connection, [Awaited(MUST_ANSWER, FENCE_XID, "a sync", lambda payload: [])],
                                    _answer_xid, deadline_after(0), after_unframed=False)
        if problems:
            self._disconnect()
        return problems

    def _session_connection(self) -> tuple[Connection, bool]:
        """The open connection, or a new one with a plausible connect request sent first (True)."""
        if self._connection is not None:
            return self._connection, False
        self._connection = Connection(HOST, self.node.ports.client)
        self._connection.send(jute_requests.plausible_connect(SESSION_TIMEOUT_MS))
        return self._connection, True

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _awaited(self, case: Case, result: BatchResult) -> Awaited:
        rule, xid, op = _expectation(case.data[4:])
        label = case.kind.split(",")[0]
        result.wrote |= op in _WRITES and rule != MUST_CLOSE

        def judge(payload: bytes) -> list[str]:
            if len(payload) < _REPLY.size:
                return [f"a reply of {len(payload)} bytes, too short for its header ({label})"]
            err = _REPLY.unpack_from(payload)[2]
            return [] if err in _KNOWN_ERRORS else [f"unknown error code {err} ({label})"]

        return Awaited(rule, xid, label, judge)

    # --- stored data and a real client ---------------------------------------------------------

    def digest(self) -> object:
        return self.tree.digest()

    def client_problem(self) -> str | None:
        """kazoo writes a znode and reads it back."""
        self._checks += 1
        return kazoo_round_trip(self.node.address, self._checks)


def _unanswered_if_dropped(due: Awaited) -> Awaited:
    """Before bytes that cost the connection, a request still pending (a write being committed, a read
    queued behind it) loses its answer, as in ZooKeeper: it may go unanswered, but not wrongly answered."""
    return due if due.rule in (MUST_CLOSE, MAY_PASS_UNSEEN) else dataclasses.replace(due, rule=MAY_STAY_SILENT)


def _is_connect(case: Case) -> bool:
    return case.kind.startswith("connect")


def _expectation(payload: bytes) -> tuple[str, int, int | None]:
    """(rule, the xid its answer carries, op) for a request frame, from the keeper's own decoding."""
    if len(payload) > JUTE_MAXBUFFER:
        return MUST_CLOSE, 0, None
    try:
        header, _ = decode_request(payload)
    except UnsupportedOperation as error:
        return MUST_ANSWER, error.xid, None
    except Exception:
        return MUST_CLOSE, 0, None
    if header.xid == Xid.NOTIFICATION and header.type != OpCode.PING:
        return MAY_PASS_UNSEEN, header.xid, header.type  # its answer, if err 0, reads as a watch event
    return MUST_ANSWER, Xid.PING if header.type == OpCode.PING else header.xid, header.type


def _answer_xid(payload: bytes) -> int | None:
    """A reply's xid; None for a watch event (xid -1, err 0, an event after the header), which answers
    no request. A request sent with xid -1 is answered with it too: those replies carry an error."""
    if len(payload) < _REPLY.size:
        return struct.unpack_from(">i", payload)[0] if len(payload) >= 4 else -(2**40)
    xid, _, err = _REPLY.unpack_from(payload)
    return None if xid == Xid.NOTIFICATION and err == 0 and len(payload) > _REPLY.size else xid


def _judge_connect(connection: Connection, may_close: bool) -> list[str]:
    """The harness's own connect must get a session, unless what follows it costs the connection first."""
    try:
        payload = connection.read_frame(deadline_after(0))
    except NoAnswer:
        return ["no answer to a plausible connect request"]
    if payload is CLOSED:
        return [] if may_close else ["connection closed instead of a session for a plausible connect request"]
    try:
        response = decode(ConnectResponse, payload)
    except JuteError as error:
        return [f"a connect response that does not decode: {error}"]
    return [] if response.session_id else ["a plausible connect request got no session"]


def _judge_fuzzed_connect(connection: Connection) -> list[str]:
    """A framed connect request is answered with a ConnectResponse (a session, or none: expired) or the
    connection is closed."""
    try:
        payload = connection.read_frame(deadline_after(0))
        if payload is not CLOSED:
            decode(ConnectResponse, payload)
    except NoAnswer:
        return ["neither an answer nor a closed connection after a connect request"]
    except (JuteError, ValueError) as error:
        return [f"an answer to a connect request that is no ConnectResponse: {error}"]
    return []
