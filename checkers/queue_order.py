"""The queue checker's version order: every (partition, offset, value) that a send acknowledgement or a read vouched
for, and each partition's known offsets in order.

Built for a long history, where it holds one entry per record ever written: each entry is one small object, found
by partition and offset (no tuple keys), and linked to the other values seen at its offset (an inconsistent offset)
and to the other offsets its value was seen at (a duplicate), which a correct history never has. An offset's rank
among the known ones is found by bisection in the partition's sorted offsets when a step between two reads is not to
the next integer, instead of a rank kept for every offset: consecutive offsets are always adjacent.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.history import Op


@dataclass(slots=True, eq=False)
class Witnesses:
    """Who vouched for one value at one (partition, offset): the first send ack and the first read."""

    partition: int
    offset: int
    value: Any
    sent_by: Op | None = None
    read_by: Op | None = None
    other_value: Witnesses | None = None
    """The next value seen at the same offset."""
    other_offset: Witnesses | None = None
    """The next offset the same value was seen at."""


@dataclass
class VersionOrder:
    at: dict[int, dict[int, Witnesses]] = field(default_factory=dict)
    """Partition -> offset -> the first value seen there (the others linked from it)."""
    first_seen: dict[Any, Witnesses] = field(default_factory=dict)
    """Value -> the first offset it was seen at (the others linked from it), in the order values appeared."""
    conflicted: list[Witnesses] = field(default_factory=list)
    """The offsets that have several values: their first values' witnesses."""
    offsets: dict[int, list[int]] = field(default_factory=dict)
    """Partition -> its known offsets, sorted (once finished)."""
    highest_read: dict[int, tuple[int, Op]] = field(default_factory=dict)
    polls: int = 0
    """The successful polls read."""

    def witness(self, partition: int, offset: int, value: Any) -> Witnesses:
        column = self.at.get(partition)
        if column is None:
            column = self.at[partition] = {}
        first = column.get(offset)
        if first is None:
            found = column[offset] = Witnesses(partition, offset, value)
        else:
            last = first
            while last.value != value:
                if last.other_value is None:
                    break
                last = last.other_value
            else:
                return last
            found = last.other_value = Witnesses(partition, offset, value)
            if first.other_value is found:
                self.conflicted.append(first)
        known = self.first_seen.get(value)
        if known is None:
            self.first_seen[value] = found
        else:
            while known.other_offset is not None:
                known = known.other_offset
            known.other_offset = found
        return found

    def finish(self) -> None:
        self.offsets = {partition: sorted(column) for partition, column in self.at.items()}

    def was_read(self, value: Any) -> bool:
        witnesses = self.first_seen.get(value)
        while witnesses is not None:
            if witnesses.read_by is not None:
                return True
            witnesses = witnesses.other_offset
        return False

    def values_read(self) -> int:
        return sum(1 for value in self.first_seen if self.was_read(value))

    def positions(self, value: Any) -> Iterator[Witnesses]:
        """Every (partition, offset) the value was seen at, in the order seen."""
        witnesses = self.first_seen.get(value)
        while witnesses is not None:
            yield witnesses
            witnesses = witnesses.other_offset

    @staticmethod
    def values_at(first: Witnesses) -> Iterator[Witnesses]:
        """Every value seen at the offset whose first value is `first`, in the order seen."""
        witnesses: Witnesses | None = first
        while witnesses is not None:
            yield witnesses
            witnesses = witnesses.other_value

    def rank(self, partition: int, offset: int) -> int:
        """The offset's position among the partition's known offsets (it must be one of them)."""
        return bisect.bisect_left(self.offsets[partition], offset)

    def adjacent(self, partition: int, before: int, after: int) -> bool:
        """Whether `after` is the next known offset after `before` (both known)."""
        return after == before + 1 or self.rank(partition, after) - self.rank(partition, before) == 1

    def between(self, partition: int, before: int, after: int) -> list[int]:
        """The known offsets strictly between two known ones."""
        return self.offsets[partition][self.rank(partition, before) + 1:self.rank(partition, after)]
