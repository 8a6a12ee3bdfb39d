"""Reading the outcome of a ZooKeeper multi through kazoo.

A failed multi reports, per op: RolledBackError for the ops before the one that
failed, that op's own error, then RuntimeInconsistency for the rest. Only the
failing op's error says what happened.
"""

from __future__ import annotations

from typing import Any, Sequence

from kazoo.exceptions import RolledBackError, RuntimeInconsistency


def first_failure(results: Sequence[Any]) -> tuple[int, Exception] | None:
    """The index and error of the op that made the multi fail, or None when it succeeded."""
    for index, result in enumerate(results):
        if isinstance(result, Exception) and not isinstance(result, (RolledBackError, RuntimeInconsistency)):
            return index, result
    return None
