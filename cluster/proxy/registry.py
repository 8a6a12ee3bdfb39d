"""The server's proxies by name: creating, populating, updating, deleting and resetting them.

A request's fields are all checked before anything is touched, so a refused one (ApiError 400/404/409)
leaves the proxies and their connections as they were. Only a listener that cannot bind fails part way
(500, as in Toxiproxy): a new proxy is then not created, an updated one is left disabled. Changes that
wait for a listener hold a lock, so two requests for one name cannot both pass the check and both listen.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cluster.proxy.addresses import split_address
from cluster.proxy.errors import bad_request, missing_field, proxy_exists, proxy_not_found
from cluster.proxy.proxy import Proxy

DEFAULT_LISTEN = "127.0.0.1:0"
"""Where a proxy listens when the request names no address: a free port on loopback."""


@dataclass(frozen=True)
class ProxyFields:
    """A proxy as a request describes it."""
    name: str
    listen: str
    upstream: str
    enabled: bool


class Registry:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._proxies: dict[str, Proxy] = {}
        self._rng = rng or random.Random()
        self._changing = asyncio.Lock()

    def __iter__(self) -> Iterator[Proxy]:
        return iter(list(self._proxies.values()))

    def get(self, name: str) -> Proxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise proxy_not_found(name)
        return proxy

    async def create(self, body: object) -> Proxy:
        fields = proxy_fields(body, defaults=None)
        async with self._changing:
            if fields.name in self._proxies:
                raise proxy_exists(fields.name)
            return await self._add(fields)

    async def populate(self, body: object) -> list[Proxy]:
        """Toxiproxy's /populate: each proxy is created, or replaced if its listen or upstream differ."""
        if not isinstance(body, list):
            raise bad_request("populate expects a JSON array of proxies")
        wanted = [proxy_fields(item, defaults=None, position=index + 1) for index, item in enumerate(body)]
        names = [fields.name for fields in wanted]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise bad_request(f"duplicate proxy name(s) {', '.join(duplicated)}")
        populated = []
        async with self._changing:
            for fields in wanted:
                existing = self._proxies.get(fields.name)
                if existing is not None and (existing.listen, existing.upstream) == (fields.listen, fields.upstream):
                    populated.append(existing)
                    continue
                if existing is not None:
                    self.delete(fields.name)
                populated.append(await self._add(fields))
        return populated

    async def update(self, name: str, body: object) -> Proxy:
        async with self._changing:
            proxy = self.get(name)
            current = ProxyFields(proxy.name, proxy.listen, proxy.upstream, proxy.enabled)
            fields = proxy_fields(body, defaults=current)
            await proxy.update(fields.listen, fields.upstream, fields.enabled)
            return proxy

    def delete(self, name: str) -> None:
        self.get(name).stop()
        del self._proxies[name]

    async def reset(self) -> None:
        """Toxiproxy's /reset: every proxy enabled, every toxic removed."""
        async with self._changing:
            for proxy in self:
                proxy.toxics.clear()
                await proxy.start()

    def close(self) -> None:
        for proxy in self:
            self.delete(proxy.name)

    async def _add(self, fields: ProxyFields) -> Proxy:
        proxy = Proxy(fields.name, fields.listen, fields.upstream, self._rng)
        if fields.enabled:
            await proxy.start()
        self._proxies[fields.name] = proxy
        return proxy


def proxy_fields(body: object, defaults: ProxyFields | None, position: int | None = None) -> ProxyFields:
    """A request's proxy fields, checked; `defaults` (an update's current values) fill those left out."""
    where = f" at proxy {position}" if position is not None else ""
    if not isinstance(body, dict):
        raise bad_request(f"expected a JSON object{where}, got {type(body).__name__}")
    given: dict[str, Any] = body

    def text(field: str, default: str | None) -> str:
        value = given.get(field, default)
        if value is None or value == "":
            raise missing_field(f"{field}{where}")
        if not isinstance(value, str):
            raise bad_request(f"{field}{where} must be a string, not {value!r}")
        return value

    name = defaults.name if defaults else text("name", None)
    listen = text("listen", defaults.listen if defaults else DEFAULT_LISTEN)
    upstream = text("upstream", defaults.upstream if defaults else None)
    for field, address in (("listen", listen), ("upstream", upstream)):
        try:
            split_address(address)
        except ValueError as error:
            raise bad_request(f"{field}{where}: {error}") from None
    enabled = given.get("enabled", defaults.enabled if defaults else True)
    if not isinstance(enabled, bool):
        raise bad_request(f"enabled{where} must be true or false, not {enabled!r}")
    return ProxyFields(name, listen, upstream, enabled)
