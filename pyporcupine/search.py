"""Wing & Gong's linearization search with Lowe's cache, over one partition of a history.

The search walks a time-ordered list of call and return entries. Taking a call before the first
pending return means "this operation takes effect next": if the model allows it and the
(linearized set, state) pair is new, the call and its return leave the list and the walk restarts.
Reaching a return means every operation that could go next has been tried, so the search undoes
its last choice. An empty list is a full linearization; undoing with nothing left to undo proves
there is none. The cache of explored (set, state) pairs is what keeps this from being factorial.

It runs hot, so it is written for CPython: the set of linearized operations is an int bitset, the
doubly-linked entry list lives in flat lists of indices, states are interned as small ids, and
each (state, call) transition is computed once and kept as an int code, so a cache probe is one
OR and one lookup in a set of ints. Operations that are interchangeable (same input, output and
return time, as retried requests with unknown outcomes often are) are only tried in call order.
The search is a generator that pauses every few hundred moves and reports the memory it holds,
so a driver can run many partitions side by side and stop any of them on a deadline or a memory
budget. The built-in models' partitions are searched by a compiled copy of this walk (compiled.py,
native/porcupine_search/), which makes the same moves; this one serves every other model and is
the reference the compiled one is tested against.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Generator, Sequence

from pyporcupine import search_core
from pyporcupine.compiled import EntryLists, compiled_search
from pyporcupine.history import Operation
from pyporcupine.model import Model

MOVES_PER_SLICE = 256
"""Lifts plus backtracks between pauses. Each move tries only the calls before the first pending
return, so its cost is bounded by the history's concurrency, not its length."""
COMPILED_MOVES_PER_SLICE = 4096
"""The same for the compiled walk, whose moves cost far less: a slice is still well under a
millisecond, so a partition that is about to prove a history illegal is not kept waiting long."""

_SET_SLOT_BYTES = 54
"""A set slot is 16 bytes; tables are kept at most 60% full and grow by doubling."""
_INTERNED_STATE_BYTES = 120
"""A dict slot and two list slots for the state, and its int id."""
MEMOIZED_STATES = 256
"""States whose steps are memoized, in a table of 8 bytes per entry of the history each."""


class PartitionSearch:
    """The search over one partition, and the longest partial linearizations it has seen.

    `longest[i]` (kept only when asked for) is the longest linearizable prefix found so far that
    contains operation i, as a tuple of operation indices; it is meaningful even if the search is
    stopped before it finishes. The built-in models are searched by the compiled walk (the same
    walk, move for move) unless `compiled` is False; any other model by the Python walk.
    """

    def __init__(self, model: Model, operations: Sequence[Operation], keep_longest: bool = False,
                 compiled: bool = True) -> None:
        self.model = model
        self.operations = list(operations)
        self.compiled = compiled
        self.longest: list[tuple[int, ...]] | None = [()] * len(self.operations) if keep_longest else None

    def run(self) -> Generator[int, None, bool]:
        """Yield the bytes the search holds every slice of moves; return the verdict."""
        operations = self.operations
        if not operations:
            return True
        entries = _entry_list(operations)
        compiled = None
        if self.compiled:
            compiled = compiled_search(self.model, operations, entries.lists(), self.longest is not None)
        if compiled is not None:
            return (yield from self._run_compiled(compiled))
        return (yield from self._walk(entries))

    def _run_compiled(self, search: search_core.Search) -> Generator[int, None, bool]:
        try:
            while (verdict := search.advance(COMPILED_MOVES_PER_SLICE)) is None:
                yield search.held_bytes()
            return verdict
        finally:
            if self.longest is not None:
                prefixes, of = search.longest()
                shared = [tuple(prefix) for prefix in prefixes]
                self.longest = [shared[i] if i >= 0 else () for i in of]

    def _walk(self, entries: _EntryList) -> Generator[int, None, bool]:
        """The search in Python, for any model."""
        operations = self.operations
        count = len(operations)
        tail, nxt, prv, match, op_of, follower = (
            entries.tail, entries.nxt, entries.prv, entries.match, entries.op_of, entries.follower)
        bit = [1 << i for i in op_of]
        input_of = [operations[i].input for i in op_of]
        output_of = [operations[i].output for i in op_of]
        step = self.model.step
        longest = self.longest
        key_bytes = _SET_SLOT_BYTES + sys.getsizeof(1 << (2 * count + 64))

        # States are interned as small ids. codes[sid][entry] memoizes taking call `entry` in that
        # state: the bit of its operation ORed with the next state's id shifted above all operation
        # bits, so one OR with the linearized set gives the cache key. Negative codes keep the hot
        # loop short, since ORing a nonnegative set into a negative code gives a key in a known
        # range: an illegal step is -1, which is in the cache from the start (a hit); a return
        # entry is -2**count (keys in [-2**count, -2]: backtrack); an entry with no code (yet, or
        # ever, past MEMOIZED_STATES) reads -2**(count+1) (keys below -2**count: compute it).
        return_code = -1 << count
        missing_code = -2 << count
        states = _InternedStates(self.model.init(), tail + 1, missing_code)
        codes = states.codes
        state_values = states.values
        state_ids = states.ids
        cache = {-1}
        cache_add = cache.add
        stack: list[int] = []  # (call entry, state id before it), flattened
        push = stack.append
        pop = stack.pop
        sid = 0
        table = codes[0]
        linearized = 0
        moves = MOVES_PER_SLICE
        entry = nxt[0]
        while True:
            key = linearized | table[entry]
            if key in cache:
                entry = nxt[entry]
                continue
            if key < return_code:
                if match[entry]:
                    ok, new_state = step(state_values[sid], input_of[entry], output_of[entry])
                    if ok:
                        next_sid = state_ids.get(new_state)
                        if next_sid is None:
                            next_sid = states.add(new_state)
                        code = bit[entry] | next_sid << count
                    else:
                        code = -1
                else:
                    code = return_code
                if sid < MEMOIZED_STATES:
                    table[entry] = code
                key = linearized | code
                if key in cache:
                    entry = nxt[entry]
                    continue
            if key >= 0:
                cache_add(key)
                push(entry)
                push(sid)
                linearized |= bit[entry]
                sid = key >> count
                table = codes[sid]
                before = prv[entry]
                after = nxt[entry]
                nxt[before] = after
                prv[after] = before
                ret = match[entry]
                before = prv[ret]
                after = nxt[ret]
                nxt[before] = after
                prv[after] = before
                if follower[entry]:
                    entries.reveal(follower[entry])
                entry = nxt[0]
                if entry == tail:
                    break
            else:
                if not stack:
                    return False
                if longest is not None:
                    _record_longest(longest, stack, op_of)
                sid = pop()
                table = codes[sid]
                entry = pop()
                linearized ^= bit[entry]
                hidden = follower[entry]
                if hidden:
                    nxt[prv[hidden]] = nxt[hidden]
                    prv[nxt[hidden]] = prv[hidden]
                ret = match[entry]
                nxt[prv[ret]] = ret
                prv[nxt[ret]] = ret
                nxt[prv[entry]] = entry
                prv[nxt[entry]] = entry
                entry = nxt[entry]
            moves -= 1
            if not moves:
                moves = MOVES_PER_SLICE
                yield len(cache) * key_bytes + states.bytes
        if longest is not None:
            _record_longest(longest, stack, op_of)
        return True


class _InternedStates:
    """Model states numbered in order of discovery, each with its table of codes, and the memory
    they hold.

    The first MEMOIZED_STATES states get their own table, a flat list indexed by entry (the
    fastest lookup there is). A model with more states than that (a growing string, a log) rarely
    revisits one, so memoizing would cost more than it saves: the rest share one table that is
    never written to and always answers "missing", and their steps are simply recomputed.
    """

    def __init__(self, initial: object, entries: int, missing_code: int) -> None:
        self.values: list[object] = []
        self.ids: dict[object, int] = {}
        self.codes: list[list[int]] = []
        self.bytes = 0
        self.entries = entries
        self.missing_code = missing_code
        self.unmemoized = [missing_code] * entries
        self.add(initial)

    def add(self, state: object) -> int:
        """Number a state not seen before."""
        sid = self.ids[state] = len(self.values)
        self.values.append(state)
        if sid < MEMOIZED_STATES:
            self.codes.append([self.missing_code] * self.entries)
            self.bytes += 8 * self.entries
        else:
            self.codes.append(self.unmemoized)
        self.bytes += sys.getsizeof(state) + _INTERNED_STATE_BYTES
        return sid


@dataclass
class _EntryList:
    """The call and return entries in time order, as a doubly-linked list in flat arrays.

    Node 0 is the head and node `tail` the end marker. `match[call]` is the call's return node
    (0 for a return), `op_of[node]` its operation. `follower[call]` is the call of the next
    interchangeable operation, hidden from the list until this one is linearized;
    `original_prev` remembers where each node was, to put a hidden call back in its place.
    """

    tail: int
    nxt: list[int]
    prv: list[int]
    match: list[int]
    op_of: list[int]
    follower: list[int]
    original_prev: list[int]

    def lists(self) -> EntryLists:
        return self.nxt, self.prv, self.match, self.op_of, self.follower, self.original_prev

    def reveal(self, call: int) -> None:
        """Link a hidden call back in after the nearest node before it that is in the list."""
        nxt, prv = self.nxt, self.prv
        before = self.original_prev[call]
        while before and nxt[prv[before]] != before:
            before = self.original_prev[before]
        after = nxt[before]
        nxt[before] = call
        prv[call] = before
        nxt[call] = after
        prv[after] = call


def entry_lists(operations: Sequence[Operation]) -> EntryLists:
    """The entry list of these operations, as the compiled search takes it."""
    return _entry_list(operations).lists()


def _entry_list(operations: Sequence[Operation]) -> _EntryList:
    """Calls sort before returns at equal times (the interval is closed, so touching operations are
    concurrent); unknown returns go after everything."""
    ends = [math.inf if op.return_time is None else op.return_time for op in operations]
    timeline = sorted([(op.call, 0, i) for i, op in enumerate(operations)] + [(end, 1, i) for i, end in enumerate(ends)])
    tail = len(timeline) + 1
    entries = _EntryList(tail, [*range(1, tail + 1), tail], [0, *range(tail)], [0] * (tail + 1),
                         [0] * (tail + 1), [0] * (tail + 1), [0, *range(tail)])
    call_node = {}
    for node, (_, is_return, i) in enumerate(timeline, start=1):
        entries.op_of[node] = i
        if is_return:
            entries.match[call_node[i]] = node
        else:
            call_node[i] = node
    for earlier, later in _interchangeable_pairs(operations):
        follower = call_node[later]
        entries.follower[call_node[earlier]] = follower
        entries.nxt[entries.prv[follower]] = entries.nxt[follower]
        entries.prv[entries.nxt[follower]] = entries.prv[follower]
    return entries


def _interchangeable_pairs(operations: Sequence[Operation]) -> list[tuple[int, int]]:
    """Consecutive (by call) operations with the same input, output and return time.

    Such operations step the model identically, and swapping two of them in a linearization
    keeps it valid (the earlier-called one can only gain room), so it is enough to try them in
    call order: k of them then cost k + 1 configurations instead of 2**k. Unknown outcomes
    repeated by retrying clients are the common case, and the costliest. Operations whose input
    or output cannot be hashed are left alone, and so are those whose return time no other has
    (most of them), without hashing their inputs.
    """
    returns = Counter(op.return_time for op in operations)
    candidates = [i for i, op in enumerate(operations) if returns[op.return_time] > 1]
    last_of: dict[object, int] = {}
    pairs = []
    for i in sorted(candidates, key=lambda i: operations[i].call):
        op = operations[i]
        identity = (op.input, op.output, op.return_time)
        try:
            earlier = last_of.get(identity)
        except TypeError:
            continue
        if earlier is not None:
            pairs.append((earlier, i))
        last_of[identity] = i
    return pairs


def _record_longest(longest: list[tuple[int, ...]], stack: list[int], op_of: list[int]) -> None:
    """Remember the current prefix for every operation in it that has not been in a longer one.

    `stack` alternates (call entry, state id before it), oldest first.
    """
    entries = stack[::2]
    prefix: tuple[int, ...] | None = None
    for entry in entries:
        i = op_of[entry]
        if len(longest[i]) < len(entries):
            if prefix is None:
                prefix = tuple(op_of[e] for e in entries)
            longest[i] = prefix
