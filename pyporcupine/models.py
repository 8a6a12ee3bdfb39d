"""Models shipped with pyporcupine: registers, a per-key store, a set and a Kafka partition log.

Inputs are small tuples whose first item names the operation; outputs are plain values. An output
of `UNKNOWN` marks an operation whose result was never seen (give such an operation
`return_time=None`): every model accepts it for any state, and still applies its effect.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from typing import Any, Hashable, Sequence

from pyporcupine.history import Event, EventKind, MalformedHistory, Operation
from pyporcupine.model import Model


class _Outcome(enum.Enum):
    UNKNOWN = "unknown"


UNKNOWN = _Outcome.UNKNOWN
"""The output of an operation whose result is unknown (Jepsen's `info`)."""


class RegisterModel(Model):
    """A read/write register holding any hashable value, starting at `initial` (None by default).

    Inputs and outputs:
      ("read",)        -> the value read
      ("write", value) -> None
    """

    def __init__(self, initial: Hashable = None) -> None:
        self.initial = initial

    def init(self) -> Hashable:
        return self.initial

    def step(self, state: Any, input: tuple, output: Any) -> tuple[bool, Any]:
        if input[0] == "read":
            return output is UNKNOWN or output == state, state
        return True, input[1]

    def describe_operation(self, input: tuple, output: Any) -> str:
        if input[0] == "read":
            return f"read() -> {_show(output)}"
        return f"write({_show(input[1])})"


class CasRegisterModel(RegisterModel):
    """An etcd-style register with compare-and-set; it starts absent (None, which reads as None).

    Inputs and outputs, as RegisterModel plus:
      ("cas", expected, new) -> True if it swapped, False if the register did not hold `expected`
    A failed CAS is informative (the register held something else at some point in its interval);
    a CAS with an UNKNOWN output swaps if it matches and is otherwise a no-op.
    """

    def step(self, state: Any, input: tuple, output: Any) -> tuple[bool, Any]:
        f = input[0]
        if f == "read":
            return output is UNKNOWN or output == state, state
        if f == "write":
            return True, input[1]
        if state == input[1]:
            return output is not False, input[2]
        return output is not True, state

    def describe_operation(self, input: tuple, output: Any) -> str:
        if input[0] == "cas":
            result = "unknown" if output is UNKNOWN else ("ok" if output else "fail")
            return f"cas({_show(input[1])}, {_show(input[2])}) -> {result}"
        return super().describe_operation(input, output)


class KeyedModel(Model):
    """A model of independent objects, one per key: each key's operations form a partition."""

    def key_of(self, input: Any) -> Hashable:
        raise NotImplementedError

    def partition(self, history: Sequence[Operation]) -> list[list[Operation]]:
        parts: dict[Hashable, list[Operation]] = defaultdict(list)
        for op in history:
            parts[self.key_of(op.input)].append(op)
        return list(parts.values())

    def partition_event(self, history: Sequence[Event]) -> list[list[Event]]:
        key_of_id: dict[Hashable, Hashable] = {}
        parts: dict[Hashable, list[Event]] = defaultdict(list)
        for position, event in enumerate(history):
            if event.kind is EventKind.CALL:
                key_of_id[event.id] = self.key_of(event.value)
            elif event.id not in key_of_id:
                raise MalformedHistory(f"event {position}: a return with id {event.id!r} that has no call before it")
            parts[key_of_id[event.id]].append(event)
        return list(parts.values())


class Independent(KeyedModel):
    """Many independent copies of `model`, one per key (Jepsen's `independent`).

    Inputs are (key, input for `model`); outputs are `model`'s outputs.
    """

    def __init__(self, model: Model) -> None:
        self.model = model

    def key_of(self, input: tuple) -> Hashable:
        return input[0]

    def init(self) -> Hashable:
        return self.model.init()

    def step(self, state: Any, input: tuple, output: Any) -> tuple[bool, Any]:
        return self.model.step(state, input[1], output)

    def describe_operation(self, input: tuple, output: Any) -> str:
        return f"[{_show(input[0])}] {self.model.describe_operation(input[1], output)}"

    def describe_state(self, state: Any) -> str:
        return self.model.describe_state(state)


class KvModel(KeyedModel):
    """A string store with get/put/append per key; a missing key reads as "". Partitioned by key.

    Inputs and outputs:
      ("get", key)           -> the string read
      ("put", key, value)    -> None
      ("append", key, value) -> None
    """

    def key_of(self, input: tuple) -> Hashable:
        return input[1]

    def init(self) -> str:
        return ""

    def step(self, state: str, input: tuple, output: Any) -> tuple[bool, str]:
        f = input[0]
        if f == "get":
            return output is UNKNOWN or output == state, state
        if f == "put":
            return True, input[2]
        return True, state + input[2]

    def describe_operation(self, input: tuple, output: Any) -> str:
        if input[0] == "get":
            return f"get({_show(input[1])}) -> {_show(output)}"
        return f"{input[0]}({_show(input[1])}, {_show(input[2])})"


class SetModel(Model):
    """A grow-only set (Jepsen/Knossos's set), starting empty.

    Inputs and outputs:
      ("add", value) -> None
      ("read",)      -> a frozenset of every value in the set
    """

    def init(self) -> frozenset:
        return frozenset()

    def step(self, state: frozenset, input: tuple, output: Any) -> tuple[bool, frozenset]:
        if input[0] == "add":
            return True, state | {input[1]}
        return output is UNKNOWN or output == state, state

    def describe_operation(self, input: tuple, output: Any) -> str:
        if input[0] == "add":
            return f"add({_show(input[1])})"
        return f"read() -> {_show(output)}"

    def describe_state(self, state: frozenset) -> str:
        return _show(state)


class LogState:
    """An append-only log as a persistent list: each state shares every earlier entry.

    A copied tuple per append would make each cached state as large as the log; here a state
    costs one small object, its hash is computed once, and equality stops at the first shared
    entry.
    """

    __slots__ = ("previous", "value", "length", "_hash")

    def __init__(self, previous: LogState | None, value: Hashable) -> None:
        self.previous = previous
        self.value = value
        self.length = 1 if previous is None else previous.length + 1
        self._hash = hash((None if previous is None else previous._hash, value))

    def at(self, offset: int) -> Hashable:
        node = self
        for _ in range(self.length - 1 - offset):
            node = node.previous
        return node.value

    def values(self) -> list[Hashable]:
        out = []
        node: LogState | None = self
        while node is not None:
            out.append(node.value)
            node = node.previous
        return out[::-1]

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogState):
            return NotImplemented
        a: LogState | None = self
        b: LogState | None = other
        while a is not b:
            if a is None or b is None or a._hash != b._hash or a.value != b.value:
                return False
            a, b = a.previous, b.previous
        return True

    def __repr__(self) -> str:
        return f"LogState({self.values()!r})"


class LogModel(KeyedModel):
    """A Kafka topic-partition: an append-only log whose offsets count from 0. Partitioned by key.

    The key names the topic-partition (any hashable, e.g. "orders-3"). The state is None (empty)
    or a LogState.

    Inputs and outputs:
      ("append", key, value) -> the offset the value was written at
      ("read", key, offset)  -> the value at that offset, or None if the log is not that long yet
    """

    def key_of(self, input: tuple) -> Hashable:
        return input[1]

    def init(self) -> None:
        return None

    def step(self, state: LogState | None, input: tuple, output: Any) -> tuple[bool, LogState | None]:
        length = 0 if state is None else state.length
        if input[0] == "append":
            return output is UNKNOWN or output == length, LogState(state, input[2])
        if output is UNKNOWN:
            return True, state
        offset = input[2]
        if not 0 <= offset < length:
            return output is None, state
        return output == state.at(offset), state

    def describe_operation(self, input: tuple, output: Any) -> str:
        if input[0] == "append":
            return f"append({_show(input[1])}, {_show(input[2])}) -> offset {_show(output)}"
        return f"read({_show(input[1])}, offset {_show(input[2])}) -> {_show(output)}"

    def describe_state(self, state: LogState | None) -> str:
        return _show([] if state is None else state.values())


def _show(value: Any) -> str:
    """Values as a person reads them in a history: nil-free, sets sorted, strings quoted."""
    if value is UNKNOWN:
        return "unknown"
    if value is None:
        return "nil"
    if isinstance(value, (frozenset, set)):
        return "#{" + " ".join(sorted(_show(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)
