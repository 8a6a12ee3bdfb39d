"""The errors the HTTP API answers with, as Toxiproxy 2.x answers them: a status and `{"error", "status"}`.

Every refusal is raised as an ApiError where it is detected (parsing, the registry, a proxy's listener)
and turned into a response in one place, so a bad request never reaches past its own handler.
"""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """A request the server refuses; `status` is the HTTP status it answers with."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error": self.message, "status": int(self.status)}


def bad_request(detail: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"bad request body: {detail}")


def missing_field(field: str) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"missing required field: {field}")


def proxy_not_found(name: str) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, f"proxy not found: {name}")


def proxy_exists(name: str) -> ApiError:
    return ApiError(HTTPStatus.CONFLICT, f"proxy already exists: {name}")


def toxic_not_found(name: str) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, f"toxic not found: {name}")


def toxic_exists(name: str) -> ApiError:
    return ApiError(HTTPStatus.CONFLICT, f"toxic already exists: {name}")


def invalid_toxic_type(kind: object) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, f"invalid toxic type: {kind!r}")


def invalid_stream(stream: object) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST,
                    f"stream was invalid, can be either upstream or downstream: {stream!r}")


def cannot_listen(address: str, error: OSError) -> ApiError:
    """Toxiproxy answers a listen failure (address in use, not local) with 500; so do we."""
    return ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"listen tcp {address}: {error.strerror or error}")
