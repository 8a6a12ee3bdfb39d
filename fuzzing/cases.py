"""What a fuzzer sends and what it found, for every protocol alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Case:
    """Bytes for the wire: a frame (`framed`: its size prefix is true) or bytes that break the framing."""

    data: bytes
    framed: bool
    kind: str
    """How it was made: the API and version or op, and the mutation."""
    slow: bool = False
    """Sent in a few chunks with pauses: a slow sender, a frame across several reads."""


@dataclass
class BatchResult:
    problems: list[str] = field(default_factory=list)
    """Failure signatures: what the server did wrong, independent of the frame's exact bytes."""
    wrote: bool = False
    """A request that may change stored data was accepted (or could not be told apart): no digest check."""


class Target(Protocol):
    """A running server and how to talk to it; a campaign drives any target the same way."""

    name: str
    batch_size: int
    skipped: int
    """Frames not sent, for `skip_reason` (the broker's long polls, the peer port's trusted messages)."""
    skip_reason: str

    def next_case(self, rng: object) -> Case: ...

    def ends_connection(self, case: Case) -> bool:
        """Whether the server may close the connection on this case (or its framing is broken): nothing may
        follow it, as bytes sent to a closed connection reset it and lose the answers not yet read."""

    def run_batch(self, cases: list[Case], rng: object) -> BatchResult:
        """Sends the cases on one connection and judges the answers: a fence request follows unless the
        last case ends the connection, after which the input ends and the connection is read to its end."""

    def digest(self) -> object:
        """The stored data, in a form that compares equal when nothing changed."""

    def client_problem(self) -> str | None:
        """None when a real client can still write and read; else what went wrong."""

    def new_errors(self) -> list[str]: ...

    def exit_code(self) -> int | None: ...
