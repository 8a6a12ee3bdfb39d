"""Sans-IO Raft: feed it events, act on its `Ready`, call `advance()`. See `core.Raft`."""

from cluster.keeper.raft.config import Config
from cluster.keeper.raft.core import ProposalDropped, Raft
from cluster.keeper.raft.log import LogInvariantError, RaftLog
from cluster.keeper.raft.messages import Message, MessageType
from cluster.keeper.raft.ready import Ready, ReadState, persisted
from cluster.keeper.raft.state import EMPTY_SNAPSHOT, NO_NODE, DurableState, Entry, HardState, Role, Snapshot, SoftState

__all__ = [
    "EMPTY_SNAPSHOT",
    "NO_NODE",
    "Config",
    "DurableState",
    "Entry",
    "HardState",
    "LogInvariantError",
    "Message",
    "MessageType",
    "ProposalDropped",
    "Raft",
    "RaftLog",
    "ReadState",
    "Ready",
    "Role",
    "Snapshot",
    "SoftState",
    "persisted",
]
