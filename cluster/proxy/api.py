"""Toxiproxy 2.x's HTTP API over the registry: routes, JSON bodies and status codes as Toxiproxy answers.

Created proxies answer 201, populate 201 with `{"proxies": [...]}`, deletions and /reset 204, the rest
200; errors are `{"error": ..., "status": ...}` with 400 (bad body, unknown toxic type or attribute,
negative value), 404 (unknown proxy or toxic), 409 (name taken) or 500 (cannot listen).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from cluster.proxy.errors import ApiError, bad_request
from cluster.proxy.http import Request, Response, json_response
from cluster.proxy.registry import Registry
from cluster.proxy.toxic import parse_toxic, update_toxic

TOXIPROXY_VERSION = "2.12.0"
"""The Toxiproxy release whose API this server speaks (GET /version)."""

UPDATE_METHODS = ("POST", "PATCH")
"""Toxiproxy 2.x updates with POST; later releases also take PATCH."""


class Api:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    async def handle(self, request: Request) -> Response:
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            # As Toxiproxy does: a web page must not be able to drive a local proxy server from a browser.
            return json_response(HTTPStatus.FORBIDDEN, {"error": "user agent not allowed", "status": 403})
        try:
            return await self._route(request, [unquote(part) for part in
                                               urlsplit(request.path).path.strip("/").split("/")])
        except ApiError as error:
            return json_response(error.status, error.body())

    async def _route(self, request: Request, path: list[str]) -> Response:
        method = request.method
        match path:
            case ["version"] if method == "GET":
                return json_response(HTTPStatus.OK, {"version": TOXIPROXY_VERSION})
            case ["reset"] if method == "POST":
                await self._registry.reset()
                return Response(HTTPStatus.NO_CONTENT)
            case ["populate"] if method == "POST":
                proxies = await self._registry.populate(_json(request))
                return json_response(HTTPStatus.CREATED, {"proxies": [proxy.to_json() for proxy in proxies]})
            case ["proxies"] if method == "GET":
                return json_response(HTTPStatus.OK, {proxy.name: proxy.to_json() for proxy in self._registry})
            case ["proxies"] if method == "POST":
                proxy = await self._registry.create(_json(request))
                return json_response(HTTPStatus.CREATED, proxy.to_json())
            case ["proxies", name] if method == "GET":
                return json_response(HTTPStatus.OK, self._registry.get(name).to_json())
            case ["proxies", name] if method in UPDATE_METHODS:
                proxy = await self._registry.update(name, _json(request))
                return json_response(HTTPStatus.OK, proxy.to_json())
            case ["proxies", name] if method == "DELETE":
                self._registry.delete(name)
                return Response(HTTPStatus.NO_CONTENT)
            case ["proxies", name, "toxics"] if method == "GET":
                return json_response(HTTPStatus.OK, [toxic.to_json() for toxic in self._registry.get(name).toxics])
            case ["proxies", name, "toxics"] if method == "POST":
                toxics = self._registry.get(name).toxics
                toxic = parse_toxic(_json(request))
                toxics.add(toxic)
                return json_response(HTTPStatus.OK, toxic.to_json())
            case ["proxies", name, "toxics", toxic_name] if method == "GET":
                return json_response(HTTPStatus.OK, self._registry.get(name).toxics.get(toxic_name).to_json())
            case ["proxies", name, "toxics", toxic_name] if method in UPDATE_METHODS:
                toxics = self._registry.get(name).toxics
                toxic = update_toxic(toxics.get(toxic_name), _json(request))
                toxics.replace(toxic)
                return json_response(HTTPStatus.OK, toxic.to_json())
            case ["proxies", name, "toxics", toxic_name] if method == "DELETE":
                self._registry.get(name).toxics.remove(toxic_name)
                return Response(HTTPStatus.NO_CONTENT)
            case ["version"] | ["reset"] | ["populate"] | ["proxies"] | ["proxies", _] \
                    | ["proxies", _, "toxics"] | ["proxies", _, "toxics", _]:
                raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {request.path}")
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such endpoint: {request.path}")


def _json(request: Request) -> object:
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, ValueError) as error:
        raise bad_request(f"not JSON: {error}") from None
