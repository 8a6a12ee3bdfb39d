"""Generators: what operations a run issues, when, and on which thread (after Jepsen's generator.clj).

A generator is an immutable value. `op(ctx)` returns None when it is exhausted, or a pair
(item, next generator) where item is either an Invocation {"thread", "time", "f", "value"} or
`Pending(until)`: nothing yet (wait for a completion, or until `until`). An invocation dated in
the future is a promise, not an emission: the interpreter keeps the old generator and asks again
when the time comes, so only dispatched operations advance state. `update(ctx, event)` folds in
each invocation and completion. Randomness comes only from `ctx.rng`, the interpreter's seeded
Random, and time only from `ctx.time`; so the same seed and the same completion times give
the same operations, which the interpreter's `simulate` checks with a virtual clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.history import NEMESIS

Invocation = dict[str, Any]
"""An operation a generator asks for: {"thread", "time", "f", "value"}."""
Update = dict[str, Any]
"""What the interpreter folds back in: an Invocation with its "type" (invoke, or a completion's, with its "value")."""
Thread = int | str
SECOND = 1_000_000_000


def thread_order(thread: Thread) -> tuple[bool, Any]:
    """Workers by number, then the nemesis: one deterministic order for picking free threads."""
    return (isinstance(thread, str), thread)


@dataclass(frozen=True)
class Context:
    time: int
    threads: frozenset[Thread]
    free: frozenset[Thread]
    rng: random.Random

    def restrict(self, threads: Iterable[Thread]) -> Context:
        allowed = self.threads & frozenset(threads)
        return replace(self, threads=allowed, free=self.free & allowed)

    def first_free(self) -> Thread | None:
        return min(self.free, key=thread_order, default=None)


@dataclass(frozen=True)
class Pending:
    until: int | None = None


Emission = tuple["Invocation | Pending", "Generator"]


class Generator:
    def op(self, ctx: Context) -> Emission | None:
        raise NotImplementedError

    def update(self, ctx: Context, event: Update) -> Generator:
        return self


def race(gens: list[Generator], answers: list[Emission | None]) -> tuple[Invocation | Pending, list[Generator]] | None:
    """The soonest op among children's answers, else the earliest wake-up.

    Children that answered Pending keep their new state (a Sleep remembers when it wakes);
    only the chosen child advances past an op.
    """
    states = list(gens)
    best: int | None = None
    wake: int | None = None
    waiting = False
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        item, following = answer
        if isinstance(item, Pending):
            states[index] = following
            waiting = True
            if item.until is not None and (wake is None or item.until < wake):
                wake = item.until
        elif best is None or item["time"] < answers[best][0]["time"]:  # type: ignore[index]
            best = index
    if best is not None:
        chosen = answers[best]
        assert chosen is not None and not isinstance(chosen[0], Pending)
        if wake is None or chosen[0]["time"] <= wake:
            states[best] = chosen[1]
            return chosen[0], states
    if best is None and not waiting:
        return None
    return Pending(wake), states


@dataclass(frozen=True)
class Fn(Generator):
    """Infinitely many ops, each made by `make(rng)` on the first free thread."""

    make: Callable[[random.Random], dict[str, Any]]

    def op(self, ctx: Context) -> Emission | None:
        thread = ctx.first_free()
        if thread is None:
            return Pending(), self
        return {**self.make(ctx.rng), "thread": thread, "time": ctx.time}, self


def repeat_op(f: str, value: Any = None) -> Fn:
    return Fn(lambda _rng: {"f": f, "value": value})


@dataclass(frozen=True)
class Limit(Generator):
    remaining: int
    gen: Generator

    def op(self, ctx: Context) -> Emission | None:
        if self.remaining <= 0:
            return None
        result = self.gen.op(ctx)
        if result is None:
            return None
        item, following = result
        if isinstance(item, Pending):
            return item, replace(self, gen=following)
        return item, Limit(self.remaining - 1, following)

    def update(self, ctx: Context, event: Update) -> Generator:
        return replace(self, gen=self.gen.update(ctx, event))


def once(f: str, value: Any = None) -> Generator:
    return Limit(1, repeat_op(f, value))


@dataclass(frozen=True)
class Repeat(Generator):
    """Runs `gen` to its end, then again from its start: `times` rounds, or forever."""

    gen: Generator
    times: int | None = None
    current: Generator | None = None

    def op(self, ctx: Context) -> Emission | None:
        if self.times is not None and self.times <= 0:
            return None
        result = (self.current or self.gen).op(ctx)
        if result is not None:
            item, following = result
            return item, replace(self, current=following)
        if self.current is None:
            return None  # empty from its start: repeating it would spin forever
        return Repeat(self.gen, None if self.times is None else self.times - 1).op(ctx)

    def update(self, ctx: Context, event: Update) -> Generator:
        if self.current is None:
            return self
        return replace(self, current=self.current.update(ctx, event))


@dataclass(frozen=True)
class Mix(Generator):
    """Each op from a randomly chosen child (by `weights`, equal if None); exhausted children drop out."""

    gens: tuple[Generator, ...]
    weights: tuple[float, ...] | None = None

    def op(self, ctx: Context) -> Emission | None:
        gens = list(self.gens)
        weights = list(self.weights or [1.0] * len(gens))
        while gens:
            index = ctx.rng.choices(range(len(gens)), weights)[0]
            result = gens[index].op(ctx)
            if result is None:
                del gens[index], weights[index]
                continue
            item, following = result
            gens[index] = following
            return item, Mix(tuple(gens), tuple(weights))
        return None

    def update(self, ctx: Context, event: Update) -> Generator:
        return replace(self, gens=tuple(gen.update(ctx, event) for gen in self.gens))


@dataclass(frozen=True)
class Delay(Generator):
    """Ops at least `interval` apart: a hard rate limit of 1/interval over all threads."""

    interval: int
    gen: Generator
    next_time: int | None = None

    def op(self, ctx: Context) -> Emission | None:
        result = self.gen.op(ctx)
        if result is None:
            return None
        item, following = result
        if isinstance(item, Pending):
            return item, replace(self, gen=following)
        scheduled = ctx.time if self.next_time is None else self.next_time
        at = max(item["time"], scheduled)
        return {**item, "time": at}, replace(self, gen=following, next_time=self._after(ctx, at, scheduled))

    def _after(self, ctx: Context, at: int, scheduled: int) -> int:
        """When the next op is due: `interval` after this one went out, however late that was."""
        return at + self.interval

    def update(self, ctx: Context, event: Update) -> Generator:
        return replace(self, gen=self.gen.update(ctx, event))


CATCH_UP = SECOND // 4
"""How far behind its schedule a Stagger may fall and still make the ops up."""


@dataclass(frozen=True)
class Stagger(Delay):
    """Ops spaced by random gaps uniform in [0, 2*interval): `interval` is the average, over all threads.

    The gaps count from when each op was due, not from when it went out: an op that waited for a free
    thread (or for an interpreter the machine kept busy) does not push back every later one, so the
    asked rate holds. At most CATCH_UP of lateness is made up, so that after a long stall (every
    worker stuck on a fault) the ops missed are dropped rather than sent in one burst.
    """

    def _after(self, ctx: Context, at: int, scheduled: int) -> int:
        due = at if at > ctx.time else max(scheduled, ctx.time - CATCH_UP)
        return due + int(ctx.rng.random() * 2 * self.interval)


def rate(ops_per_second: float, gen: Generator) -> Generator:
    return Delay(round(SECOND / ops_per_second), gen)


def stagger(ops_per_second: float, gen: Generator) -> Generator:
    return Stagger(round(SECOND / ops_per_second), gen)


@dataclass(frozen=True)
class TimeLimit(Generator):
    """Ends `limit` ns after its first op was asked for; no op dated at or after that is emitted."""

    limit: int
    gen: Generator
    deadline: int | None = None

    def op(self, ctx: Context) -> Emission | None:
        deadline = ctx.time + self.limit if self.deadline is None else self.deadline
        if ctx.time >= deadline:
            return None
        result = self.gen.op(ctx)
        if result is None:
            return None
        item, following = result
        if isinstance(item, Pending):
            until = deadline if item.until is None else min(item.until, deadline)
            return Pending(until), TimeLimit(self.limit, following, deadline)
        if item["time"] >= deadline:
            return Pending(deadline), TimeLimit(self.limit, self.gen, deadline)
        return item, TimeLimit(self.limit, following, deadline)

    def update(self, ctx: Context, event: Update) -> Generator:
        return replace(self, gen=self.gen.update(ctx, event))


@dataclass(frozen=True)
class Sleep(Generator):
    """No ops for `duration` ns from when it is first asked, then exhausted (a pause between phases)."""

    duration: int
    wake: int | None = None

    def op(self, ctx: Context) -> Emission | None:
        wake = ctx.time + self.duration if self.wake is None else self.wake
        if ctx.time >= wake:
            return None
        return Pending(wake), Sleep(self.duration, wake)


@dataclass(frozen=True)
class Phases(Generator):
    """Each generator in turn; the next starts only when the previous is exhausted and every thread is idle."""

    gens: tuple[Generator, ...]

    def op(self, ctx: Context) -> Emission | None:
        gens = self.gens
        while gens:
            result = gens[0].op(ctx)
            if result is not None:
                item, following = result
                return item, Phases((following, *gens[1:]))
            if ctx.free != ctx.threads:
                return Pending(), Phases(gens)
            gens = gens[1:]
        return None

    def update(self, ctx: Context, event: Update) -> Generator:
        if not self.gens:
            return self
        return Phases((self.gens[0].update(ctx, event), *self.gens[1:]))


def phases(*gens: Generator) -> Phases:
    return Phases(gens)


@dataclass(frozen=True)
class OnThreads(Generator):
    """`gen` sees (and gets events of) only the chosen threads."""

    accepts: Callable[[Thread], bool]
    gen: Generator

    def op(self, ctx: Context) -> Emission | None:
        result = self.gen.op(ctx.restrict(t for t in ctx.threads if self.accepts(t)))
        if result is None:
            return None
        item, following = result
        return item, replace(self, gen=following)

    def update(self, ctx: Context, event: Update) -> Generator:
        if not self.accepts(event["thread"]):
            return self
        return replace(self, gen=self.gen.update(ctx.restrict(t for t in ctx.threads if self.accepts(t)), event))


def _is_client(thread: Thread) -> bool:
    return thread != NEMESIS


def _is_nemesis(thread: Thread) -> bool:
    return thread == NEMESIS


def clients(gen: Generator) -> OnThreads:
    return OnThreads(_is_client, gen)


def nemesis(gen: Generator) -> OnThreads:
    return OnThreads(_is_nemesis, gen)


@dataclass(frozen=True)
class EachThread(Generator):
    """A separate copy of `gen` for every thread, each advancing on its own."""

    gen: Generator
    copies: Mapping[Thread, Generator] = field(default_factory=dict)

    def op(self, ctx: Context) -> Emission | None:
        threads = sorted(ctx.threads, key=thread_order)
        copies = [self.copies.get(thread, self.gen) for thread in threads]
        answers = [copy.op(self._local(ctx, thread)) for thread, copy in zip(threads, copies)]
        raced = race(copies, answers)
        if raced is None:
            return None
        item, states = raced
        return item, EachThread(self.gen, {**self.copies, **dict(zip(threads, states))})

    @staticmethod
    def _local(ctx: Context, thread: Thread) -> Context:
        return replace(ctx, threads=frozenset({thread}), free=ctx.free & {thread})

    def update(self, ctx: Context, event: Update) -> Generator:
        thread = event["thread"]
        if thread not in ctx.threads:
            return self
        copy = self.copies.get(thread, self.gen)
        return EachThread(self.gen, {**self.copies, thread: copy.update(self._local(ctx, thread), event)})


def each_thread(gen: Generator) -> EachThread:
    return EachThread(gen)


@dataclass(frozen=True)
class AnyOf(Generator):
    """The soonest op of any child: how client and nemesis generators run side by side."""

    gens: tuple[Generator, ...]

    def op(self, ctx: Context) -> Emission | None:
        raced = race(list(self.gens), [gen.op(ctx) for gen in self.gens])
        if raced is None:
            return None
        item, states = raced
        return item, AnyOf(tuple(states))

    def update(self, ctx: Context, event: Update) -> Generator:
        return AnyOf(tuple(gen.update(ctx, event) for gen in self.gens))


def any_of(*gens: Generator) -> AnyOf:
    return AnyOf(gens)
