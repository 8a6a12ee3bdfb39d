"""The Ready contract: what must be durable travels with the messages that depend on it."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from cluster.keeper.raft import (
    Config,
    DurableState,
    Entry,
    HardState,
    Message,
    MessageType,
    Raft,
    Ready,
    Role,
    Snapshot,
    persisted,
)
from tests.raft.harness import Cluster


def test_a_vote_is_handed_out_for_persisting_together_with_the_response_granting_it() -> None:
    node = Raft(Config(2, (1, 2, 3)), random.Random(0))
    node.step(Message(MessageType.VOTE, src=1, dst=2, term=1))
    ready = node.ready()
    assert ready.hard_state is not None and (ready.hard_state.term, ready.hard_state.vote) == (1, 1)
    (granted,) = ready.messages
    assert granted.type is MessageType.VOTE_RESP and not granted.reject


def test_an_append_acknowledgement_travels_with_the_entries_it_acknowledges() -> None:
    cluster = Cluster(3)
    cluster.elect(1)
    cluster[1].propose(b"x")
    cluster.process(1)
    (append, _) = [m for m in cluster.outbox if m.type is MessageType.APPEND]
    cluster.outbox.clear()
    follower = cluster[append.dst]
    follower.step(append)
    ready = follower.ready()
    assert [e.data for e in ready.entries] == [b"x"]
    assert [(m.type, m.index) for m in ready.messages] == [(MessageType.APPEND_RESP, 2)]


def test_no_new_ready_until_the_last_one_is_advanced() -> None:
    node = Raft(Config(1, (1, 2, 3)), random.Random(0))
    node.step(Message(MessageType.VOTE, src=2, dst=1, term=1))
    node.ready()
    node.step(Message(MessageType.HEARTBEAT, src=2, dst=1, term=1))
    assert not node.has_ready()
    with pytest.raises(RuntimeError):
        node.ready()
    node.advance()
    assert [m.type for m in node.ready().messages] == [MessageType.HEARTBEAT_RESP]


def test_a_leader_counts_its_own_entries_only_once_they_are_durable() -> None:
    cluster = Cluster(3)
    leader = cluster.elect(1)
    leader.propose(b"x")
    ready = leader.ready()  # the leader's write of entry 2 is now in flight, not yet durable
    assert [e.index for e in ready.entries] == [2]
    leader.step(Message(MessageType.APPEND_RESP, src=2, dst=1, term=1, index=2))
    assert leader.log.committed == 1
    leader.advance()
    assert leader.log.committed == 2


def test_a_single_node_applies_an_entry_only_in_the_ready_after_the_one_persisting_it() -> None:
    node = Raft(Config(1, (1,)), random.Random(0))
    while node.role is not Role.LEADER:
        node.tick()
    node.ready()
    node.advance()
    node.ready()
    node.advance()
    node.propose(b"x")
    first = node.ready()
    assert [e.data for e in first.entries] == [b"x"] and first.committed_entries == ()
    node.advance()
    second = node.ready()
    assert [e.data for e in second.committed_entries] == [b"x"]


_NOTHING = Ready(None, None, (), None, (), (), ())


def _ready(**fields: Any) -> Ready:
    return dataclasses.replace(_NOTHING, **fields)


def _entries(*terms: int, start: int = 1) -> tuple[Entry, ...]:
    return tuple(Entry(term, index) for index, term in enumerate(terms, start=start))


def test_persisting_entries_replaces_the_durable_suffix_they_conflict_with() -> None:
    durable = DurableState(HardState(2, 1, 1), entries=_entries(1, 1, 2, 2))
    after = persisted(durable, _ready(entries=_entries(3, 3, start=3), hard_state=HardState(3, 0, 1)))
    assert after.entries == _entries(1, 1, 3, 3)
    assert after.hard_state == HardState(3, 0, 1)


def test_persisting_a_local_compaction_keeps_the_entries_after_it() -> None:
    durable = DurableState(entries=_entries(1, 1, 2, 2))
    after = persisted(durable, _ready(snapshot=Snapshot(2, 1, b"s")))
    assert after.snapshot == Snapshot(2, 1, b"s") and after.entries == _entries(2, 2, start=3)


def test_persisting_an_installed_snapshot_the_log_disagrees_with_drops_the_whole_log() -> None:
    durable = DurableState(entries=_entries(1, 1, 2, 2))
    assert persisted(durable, _ready(snapshot=Snapshot(3, 5))).entries == ()
    assert persisted(durable, _ready(snapshot=Snapshot(9, 5))).entries == ()
