"""A run's `--nemesis-option KEY=VALUE`s: each key belongs to one family of faults, checked before anything is deployed.

A family (the disk faults, the proxy faults, ...) is a frozen dataclass of its settings and a table
of its keys: the field each sets, the faults it is for, and how its value is read. `check` refuses
a key no family knows, and a key whose faults the run does not inject, as surely as a bad value:
a setting nobody acts on is a setting someone believes in. Each family's `parse` reads only its own
keys, so families never need to know of each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.spec import SpecError

T = TypeVar("T")


@dataclass(frozen=True)
class OptionKey:
    field: str
    faults: tuple[str, ...]
    parse: Callable[[str], Any]


Keys = Mapping[str, OptionKey]


def number(minimum: float, maximum: float | None = None, kind: type = float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError("must be a whole number" if kind is int else "must be a number") from None
        if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f"at least {minimum:g}"
            raise ValueError(f"must be {bound}")
        return value
    return parse


def choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text
    return parse


def check(options: Mapping[str, str], faults: Iterable[str], families: Iterable[Keys]) -> None:
    """SpecError for the first key no family knows, or whose faults the run does not inject."""
    known = {key: spec for keys in families for key, spec in keys.items()}
    injected = set(faults)
    for key in options:
        spec = known.get(key)
        if spec is None:
            raise SpecError(f"nemesis_options: unknown key {key!r}; known: {', '.join(known)}")
        if not set(spec.faults) & injected:
            raise SpecError(f"nemesis_options: {key} is an option of the {' and '.join(spec.faults)} "
                            f"fault{'s' if len(spec.faults) > 1 else ''}, which this run does not inject")


def parse(family: Callable[..., T], keys: Keys, options: Mapping[str, str], faults: Iterable[str]) -> T:
    """The family's settings from the run's options: its own keys checked (check) and read, the rest left alone."""
    own = {key: text for key, text in options.items() if key in keys}
    check(own, faults, [keys])
    values: dict[str, Any] = {}
    for key, text in own.items():
        try:
            values[keys[key].field] = keys[key].parse(str(text).strip())
        except ValueError as error:
            raise SpecError(f"nemesis_options: {key}={text!r}: {error}") from None
    return family(**values)
