"""What every nemesis is: a set of op names it handles, invoke, heal, and what is active now.

Process faults (process.py) are the first kind; network partitions, disk and clock faults are
further modules with classes of this shape, and `build()` composes whichever a test names.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any


class NemesisError(RuntimeError):
    """A fault could not be started or stopped; the runner records the op as failed (or info) with this message."""


class Nemesis(ABC):
    fs: frozenset[str]
    """The op names ("start-kill", "stop-kill", ...) this nemesis handles."""

    @abstractmethod
    def invoke(self, f: str, value: Any) -> Any:
        """Do what op f asks with target value; returns what was done (the ok op's value), raises NemesisError."""

    @abstractmethod
    def heal(self) -> list[dict[str, Any]]:
        """Undo every active fault, waiting until the nodes serve again; returns what was undone."""

    @abstractmethod
    def active(self) -> list[str]:
        """Active faults in a few words each, e.g. "kill b2"."""


class Composite(Nemesis):
    """Several nemeses as one: each op goes to the one that handles its name.

    One op at a time: the runner heals from its main thread (at the end, on Ctrl-C) while the
    nemesis thread may still be inside an invoke; heal then waits for it and undoes its result too.
    """

    def __init__(self, parts: list[Nemesis]) -> None:
        self.parts = parts
        self.fs = frozenset(f for part in parts for f in part.fs)
        self._one_at_a_time = threading.Lock()

    def invoke(self, f: str, value: Any) -> Any:
        for part in self.parts:
            if f in part.fs:
                with self._one_at_a_time:
                    return part.invoke(f, value)
        raise NemesisError(f"no nemesis handles {f!r} (handled: {', '.join(sorted(self.fs))})")

    def heal(self) -> list[dict[str, Any]]:
        undone: list[dict[str, Any]] = []
        errors: list[str] = []
        for part in self.parts:
            try:
                with self._one_at_a_time:
                    undone += part.heal()
            except NemesisError as error:
                errors.append(str(error))
        if errors:
            raise NemesisError("healing failed: " + "; ".join(errors))
        return undone

    def active(self) -> list[str]:
        return [fault for part in self.parts for fault in part.active()]
