"""A small HTTP/1.1 server for the JSON API: requests with a Content-Length body, keep-alive, nothing more.

The standard library's http.server is thread-per-request and blocking; the proxies live on an
asyncio loop, so the API does too. Whatever a client sends, the worst it gets is an error response
and its own connection closed: the handler's failures are answered with 500 and logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

_log = logging.getLogger(__name__)

LONGEST_HEAD = 64 * 1024
LARGEST_BODY = 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: HTTPStatus, value: object) -> Response:
    return Response(status, json.dumps(value).encode() + b"\n")


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


async def start_http_server(host: str, port: int, handler: Handler) -> asyncio.Server:
    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _serve_connection(reader, writer, handler)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connected, host, port, limit=LONGEST_HEAD)


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
    while True:
        try:
            request, keep_alive = await _read_request(reader)
        except _BadRequest as error:
            await _write(writer, json_response(error.status, {"error": str(error), "status": int(error.status)}),
                         keep_alive=False)
            return
        if request is None:
            return
        try:
            response = await handler(request)
        except Exception as error:  # noqa: BLE001 - one request's failure must not end the server
            _log.exception("%s %s failed", request.method, request.path)
            response = json_response(HTTPStatus.INTERNAL_SERVER_ERROR,
                                     {"error": f"internal error: {error}", "status": 500})
        await _write(writer, response, keep_alive)
        if not keep_alive:
            return


async def _read_request(reader: asyncio.StreamReader) -> tuple[Request | None, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "incomplete request head") from None
        return None, False
    except asyncio.LimitOverrunError:
        raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"malformed request line {lines[0]!r}")
    method, target, version = parts
    headers = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(HTTPStatus.BAD_REQUEST, f"malformed header {line!r}")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequest(HTTPStatus.LENGTH_REQUIRED, "chunked bodies are not supported: send Content-Length")
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit():
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length_text!r}")
    length = int(length_text)
    if length > LARGEST_BODY:
        raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {LARGEST_BODY} bytes")
    body = await reader.readexactly(length)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return Request(method.upper(), target, headers, body), keep_alive


async def _write(writer: asyncio.StreamWriter, response: Response, keep_alive: bool) -> None:
    head = [f"HTTP/1.1 {response.status.value} {response.status.phrase}"]
    headers = {"Content-Length": str(len(response.body)), "Connection": "keep-alive" if keep_alive else "close",
               **response.headers}
    if response.body:
        headers["Content-Type"] = response.content_type
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()
