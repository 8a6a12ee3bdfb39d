"""A proxy's toxics, in the order they were added, with a signal for the connections when they change.

Open connections do not copy the toxics: they look here whenever data moves, and wait on
`changed()` when a toxic holds them (timeout) or may cut them (a deadline), so an API call
takes effect on live connections at once, as in Toxiproxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

from cluster.proxy.errors import toxic_exists, toxic_not_found
from cluster.proxy.toxic import Toxic


class ToxicSet:
    def __init__(self) -> None:
        self._toxics: dict[str, Toxic] = {}
        self._changed = asyncio.Event()

    def __iter__(self) -> Iterator[Toxic]:
        return iter(list(self._toxics.values()))

    def of_stream(self, stream: str) -> list[Toxic]:
        return [toxic for toxic in self._toxics.values() if toxic.stream == stream]

    def get(self, name: str) -> Toxic:
        toxic = self._toxics.get(name)
        if toxic is None:
            raise toxic_not_found(name)
        return toxic

    def add(self, toxic: Toxic) -> None:
        if toxic.name in self._toxics:
            raise toxic_exists(toxic.name)
        self._toxics[toxic.name] = toxic
        self._notify()

    def replace(self, toxic: Toxic) -> None:
        self.get(toxic.name)
        self._toxics[toxic.name] = toxic
        self._notify()

    def remove(self, name: str) -> None:
        self.get(name)
        del self._toxics[name]
        self._notify()

    def clear(self) -> None:
        self._toxics.clear()
        self._notify()

    def changed(self) -> Coroutine[Any, Any, bool]:
        """Completes at the next change after this call (the event is taken now, not when awaited)."""
        return self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
