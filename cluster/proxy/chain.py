"""The toxics on one link (one direction of one connection), in the order they were added.

A link meets the proxy's toxics as they are when it looks: a toxic added while the connection is
open takes hold of it from then on (its toxicity drawn then), a removed one lets go, an updated one
starts afresh. Pure (no sockets, no clock): the pipe passes the time in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from cluster.proxy.toxic import Toxic
from cluster.proxy.toxics import Cut, Deliver, Effect, Event, Finish


class LinkChain:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._effects: list[tuple[Toxic, Effect]] = []
        self._cut = False

    def sync(self, toxics: Sequence[Toxic], now: float) -> None:
        """Follow the proxy's toxics for this link's stream: keep the state of those still there."""
        current = {toxic.name: (toxic, effect) for toxic, effect in self._effects}
        effects = []
        for toxic in toxics:
            kept = current.get(toxic.name)
            effects.append(kept if kept is not None and kept[0] == toxic else (toxic, toxic.effect(now, self._rng)))
        self._effects = effects

    @property
    def holds(self) -> bool:
        return any(effect.holds for _, effect in self._effects)

    def feed(self, data: bytes, now: float) -> list[Event]:
        return self._through([Deliver(now, data)])

    def finish(self, now: float) -> list[Event]:
        return self._through([Finish(now)])

    def deadline(self) -> Cut | None:
        cuts = [cut for _, effect in self._effects if (cut := effect.deadline()) is not None]
        return min(cuts, key=lambda cut: cut.at, default=None)

    def _through(self, events: list[Event]) -> list[Event]:
        """The events out of the last toxic; none once a cut has come out (the connection is gone then)."""
        if self._cut:
            return []
        for _, effect in self._effects:
            events = _until_cut([out for event in events for out in _apply(effect, event)])
        self._cut = any(isinstance(event, Cut) for event in events)
        return events


def _apply(effect: Effect, event: Event) -> list[Event]:
    if isinstance(event, Deliver):
        return effect.feed(event)
    if isinstance(event, Finish):
        return effect.finish(event)
    return [event]


def _until_cut(events: list[Event]) -> list[Event]:
    for index, event in enumerate(events):
        if isinstance(event, Cut):
            return events[:index + 1]
    return events
