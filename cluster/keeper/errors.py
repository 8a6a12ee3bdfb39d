"""ZooKeeper's result codes, with ZooKeeper's numbers, and the exception that carries one.

Clients (kazoo, zkCli) map these exact numbers to their exceptions, so the
numbers are the contract. This is the keeper's own small table until the jute
codecs publish theirs; it then should give way to that one.
"""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    OK = 0
    RUNTIMEINCONSISTENCY = -2
    BADARGUMENTS = -8
    NONODE = -101
    BADVERSION = -103
    NOCHILDRENFOREPHEMERALS = -108
    NODEEXISTS = -110
    NOTEMPTY = -111
    SESSIONEXPIRED = -112


class KeeperError(Exception):
    """A request that ZooKeeper would refuse with `code`."""

    def __init__(self, code: ErrorCode, path: str = "") -> None:
        super().__init__(f"{code.name} {path}".strip())
        self.code = code
        self.path = path
