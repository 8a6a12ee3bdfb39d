"""What the checker needs to know about the object under test: its sequential specification.

A model is Porcupine's `Model` as a Python class. States must be immutable and hashable with an
`__eq__` that agrees with `__hash__`: the search caches (linearized set, state) pairs, so two
states that compare equal must behave the same from then on. `step` must be a pure function of
(state, input, output), must not mutate its state, and must treat equal inputs and outputs alike:
the checker remembers each step's result, and tries operations with equal inputs, outputs and
return times in one order only.
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Sequence

from pyporcupine.history import Event, Operation


class Model:
    """Subclass and implement `init` and `step`; override the rest when it helps.

    `partition`/`partition_event` split a history into independent sub-histories (P-compositionality):
    the whole is linearizable iff every part is, and small parts are exponentially cheaper to search.
    """

    def init(self) -> Hashable:
        raise NotImplementedError

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        """Return (is this output legal for this input in this state, the state after it)."""
        raise NotImplementedError

    def partition(self, history: Sequence[Operation]) -> list[list[Operation]]:
        return [list(history)]

    def partition_event(self, history: Sequence[Event]) -> list[list[Event]]:
        return [list(history)]

    def describe_operation(self, input: Any, output: Any) -> str:
        return f"{input!r} -> {output!r}"

    def describe_state(self, state: Any) -> str:
        return repr(state)


class NondeterministicModel(Model):
    """A model whose step may allow several next states (a write that may or may not be lost...).

    Subclasses implement `init_states` and `next_states`; the checker sees the power-set model
    (Porcupine's `NondeterministicModel.ToModel`): the state is the frozenset of states the object
    could be in, and an operation is legal iff it is legal from at least one of them.
    """

    def init_states(self) -> Iterable[Hashable]:
        raise NotImplementedError

    def next_states(self, state: Any, input: Any, output: Any) -> Iterable[Hashable]:
        """The states the object may be in after this operation; none if it is illegal here."""
        raise NotImplementedError

    def init(self) -> frozenset:
        return frozenset(self.init_states())

    def step(self, state: frozenset, input: Any, output: Any) -> tuple[bool, frozenset]:
        after = frozenset(s for before in state for s in self.next_states(before, input, output))
        return bool(after), after

    def describe_state(self, state: frozenset) -> str:
        return "{" + ", ".join(sorted(repr(s) for s in state)) + "}"
