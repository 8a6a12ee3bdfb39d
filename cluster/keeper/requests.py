"""The write requests a client session sends, before the leader turns them into txns.

Versions follow ZooKeeper: -1 matches any version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

ANY_VERSION = -1


@dataclass(frozen=True)
class Create:
    path: str
    data: bytes = b""
    ephemeral: bool = False
    sequential: bool = False
    """The server appends the parent's cversion, zero-padded to 10 digits, to the path."""


@dataclass(frozen=True)
class Delete:
    path: str
    version: int = ANY_VERSION


@dataclass(frozen=True)
class SetData:
    path: str
    data: bytes
    version: int = ANY_VERSION


@dataclass(frozen=True)
class Check:
    path: str
    version: int = ANY_VERSION


MultiRequestOp = Union[Create, Delete, SetData, Check]


@dataclass(frozen=True)
class Multi:
    ops: tuple[MultiRequestOp, ...]


@dataclass(frozen=True)
class CreateSession:
    timeout_ms: int
    """Already negotiated (see sessions.negotiate_timeout): the txn records what the client was told."""


@dataclass(frozen=True)
class CloseSession:
    pass


WriteRequest = Union[Create, Delete, SetData, Check, Multi, CreateSession, CloseSession]
