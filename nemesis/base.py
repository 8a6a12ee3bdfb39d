"""What every nemesis shares: the error a fault raises, and several nemeses composed as one.

A nemesis is harness.seams.Nemesis: the op names it handles, invoke, heal, and what is active now.
Process faults (process.py) are the first kind; network partitions (net.py) and leader isolation
(leader_isolation.py) are further ones, and `build()` composes whichever a test names.
"""

from __future__ import annotations

import threading
from typing import Any

from harness.seams import Nemesis


class NemesisError(RuntimeError):
    """A fault could not be started or stopped; the runner records the op as failed (or info) with this message."""


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
