"""Messages exchanged between Raft nodes: one flat record for every kind, as etcd's raftpb does.

A single record type keeps the network (real or simulated) oblivious of Raft: it moves opaque
`Message` values from `src` to `dst`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cluster.keeper.raft.state import EMPTY_SNAPSHOT, Entry, Snapshot


class MessageType(enum.Enum):
    PRE_VOTE = "pre-vote"
    PRE_VOTE_RESP = "pre-vote-resp"
    VOTE = "vote"
    VOTE_RESP = "vote-resp"
    APPEND = "append"
    APPEND_RESP = "append-resp"
    HEARTBEAT = "heartbeat"
    HEARTBEAT_RESP = "heartbeat-resp"
    SNAPSHOT = "snapshot"
    TIMEOUT_NOW = "timeout-now"
    READ_INDEX = "read-index"
    READ_INDEX_RESP = "read-index-resp"


@dataclass(frozen=True, slots=True)
class Message:
    """Field meanings depend on `type`.

    - votes: `index`/`log_term` describe the candidate's last entry; `force` is set by a
      leadership transfer so voters ignore their leader lease.
    - appends: `index`/`log_term` are the entry preceding `entries`; `commit` is the leader's.
    - append responses: `index` is the follower's new last index, or on `reject` the rejected
      prev index, with `reject_hint`/`log_term` pointing at where the leader should probe next.
    - heartbeats and read-index messages: `context` identifies a read-index round.
    """

    type: MessageType
    src: int
    dst: int
    term: int
    log_term: int = 0
    index: int = 0
    entries: tuple[Entry, ...] = ()
    commit: int = 0
    reject: bool = False
    reject_hint: int = 0
    snapshot: Snapshot = EMPTY_SNAPSHOT
    context: bytes = b""
    force: bool = False
