"""Batches the keeper fuzzer reported a failure for, against a real keeper, judged as the fuzzer judges; and
the keeper digest the fuzzer compares, which must see what a write changes and nothing an expiry does.

Seed 11 reported "no answer within the deadline to a request that may stay silent (SYNC)" for a batch of
a create, a sync whose xid a mutation had made -1, and one byte of a frame. The keeper answers the sync
with xid -1 and err 0, which reads as a watch event, and rightly waits for the rest of the frame; the
harness waited for the answer it had already passed over. A sync before bytes the keeper cannot parse is
answered, or lost with the connection it closes at once: the other batches hold it to that."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import pytest

from cluster.keeper.jute.codes import OpCode
from cluster.keeper.jute.records import ACL, CreateRequest, Id, RequestHeader, SyncRequest
from cluster.keeper.jute.wire import encode
from fuzzing.byte_mutations import framed
from fuzzing.cases import Case
from fuzzing.keeper_target import KeeperTarget
from fuzzing.keeper_tree import started_client, stopped


def _sync(xid: int) -> Case:
    return Case(framed(encode(RequestHeader(xid, OpCode.SYNC)) + encode(SyncRequest("/fuzz"))), True, "SYNC")


def _create(xid: int) -> Case:
    record = CreateRequest("/fuzz/found", b"x", [ACL(31, Id("world", "anyone"))], 0)
    return Case(framed(encode(RequestHeader(xid, OpCode.CREATE)) + encode(record)), True, "CREATE")


_CUT = Case(_sync(9).data[:10], False, "SYNC, cut-frame")
_LYING = Case(struct.pack(">i", 1000) + b"abc", False, "lying-size")
_MALFORMED = Case(framed(struct.pack(">ii", 7, OpCode.SYNC)), True, "SYNC, truncate")

_FOUND_SYNC = Case(bytes.fromhex("00000011ffffffff00000009000000052f66757a7a"), True, "SYNC, api-key-version")
"""The seed-11 batch's sync, as sent (its create, 11,695 bytes, did not matter)."""

FOUND = {
    "seed-11-sync-xid-minus-one-then-one-byte": [_FOUND_SYNC, Case(b"\x00", False, "SASL, cut-frame")],
    "sync-xid-minus-one-then-cut-frame": [_sync(-1), _CUT],
    "sync-xid-minus-one-then-lying-size": [_sync(-1), _LYING],
    "sync-then-cut-frame": [_sync(5), _CUT],
    "sync-then-malformed-frame": [_sync(5), _MALFORMED],
    "write-sync-minus-one-sync-then-malformed-frame": [_create(4), _sync(-1), _sync(6), _MALFORMED],
}


@pytest.fixture(scope="module")
def keeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperTarget]:
    with KeeperTarget(tmp_path_factory.mktemp("keeper")) as target:
        yield target


@pytest.mark.parametrize("cases", FOUND.values(), ids=list(FOUND))
def test_found_batch_is_answered_or_its_connection_closed(keeper: KeeperTarget, cases: list[Case]) -> None:
    result = keeper.run_batch(cases, random.Random(0))
    assert result.problems == []
    assert keeper.new_errors() == []


def test_the_digest_sees_data_and_versions_change_but_not_ephemerals(keeper: KeeperTarget) -> None:
    client = started_client(keeper.node.address)
    try:
        before = keeper.digest()
        client.create("/fuzz/b", b"gone with its session", ephemeral=True)
        assert keeper.digest() == before
        client.set("/fuzz/a", b"changed")
        changed = keeper.digest()
        client.set("/fuzz/a", b"")
        assert changed != before and keeper.digest() not in (before, changed)  # the version counts too
        client.delete("/fuzz/b")
    finally:
        stopped(client)
