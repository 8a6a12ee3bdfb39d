"""The JSON every control-plane znode holds: Kafka writes compact objects, and anything else is refused."""

from __future__ import annotations

import json
from typing import Any, TypeGuard


class ZnodeError(ValueError):
    """A znode holds something other than what Kafka's layout puts there."""


def dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def load(data: bytes) -> dict[str, Any]:
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ZnodeError(f"not JSON: {error}") from None
    if not isinstance(record, dict):
        raise ZnodeError(f"expected a JSON object, got {type(record).__name__}")
    return record


def is_int(value: Any) -> TypeGuard[int]:
    """JSON's true and false are Python ints; a broker id or epoch is never one."""
    return isinstance(value, int) and not isinstance(value, bool)
