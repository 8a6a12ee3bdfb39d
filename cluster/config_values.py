"""Typed reading of configuration values that arrive as strings from .properties files.

Every error names the property, because the operator has to find the line to fix.
"""

from __future__ import annotations


def integer(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"property {name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    raise ValueError(f"property {name} must be an integer, got {value!r}")


def boolean(name: str, value: object) -> bool:
    """Java's Boolean.parseBoolean is lenient; Kafka's config parser accepts only true and false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"property {name} must be true or false, got {value!r}")


def text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"property {name} must be a string, got {value!r}")
    return value.strip()


def comma_list(name: str, value: object) -> tuple[str, ...]:
    return tuple(item.strip() for item in text(name, value).split(",") if item.strip())
