"""The byte ranges of a file changed since its last fsync.

Kept sorted and disjoint so that an fsync copies each changed byte once. Appends
and rewrites of the last range, what a log does on every write, extend the last
range in constant time; only writes elsewhere pay a bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator


class DirtyRanges:
    __slots__ = ("_starts", "_ends")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        starts, ends = self._starts, self._ends
        if not starts or start > ends[-1]:
            starts.append(start)
            ends.append(end)
            return
        if start >= starts[-1]:
            ends[-1] = max(ends[-1], end)
            return
        first = bisect_left(ends, start)
        after = bisect_right(starts, end)
        if first < after:
            start = min(start, starts[first])
            end = max(end, ends[after - 1])
        starts[first:after] = [start]
        ends[first:after] = [end]

    def clip(self, size: int) -> None:
        """Forgets what lies at or beyond size: a truncate made those bytes moot."""
        kept = bisect_left(self._starts, size)
        del self._starts[kept:]
        del self._ends[kept:]
        if self._ends and self._ends[-1] > size:
            self._ends[-1] = size

    def total(self) -> int:
        return sum(self._ends) - sum(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._ends)

    def __bool__(self) -> bool:
        return bool(self._starts)
