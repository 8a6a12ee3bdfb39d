"""The disk faults' options: a run's `--nemesis-option KEY=VALUE`s, checked before anything is deployed.

Each key belongs to one fault, and naming a key whose fault the run does not inject is refused as
surely as an unknown key or a bad value: a setting nobody acts on is a setting someone believes in.

KEYS below is the one list of keys; docs/chaos.md describes each.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cluster.faultfs import ENTRY_MODELS, OP_CLASSES, STRICT, DiskFaults
from harness.spec import SpecError
from nemesis.corruption import DEFAULT_KINDS, KINDS, MODES

def _number(minimum: float, maximum: float | None = None, kind: type = float) -> Callable[[str], Any]:
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


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text
    return parse


def _error_ops(text: str) -> tuple[str, ...]:
    ops = tuple(dict.fromkeys(op.strip() for op in text.split(",") if op.strip()))
    if not ops or any(op not in OP_CLASSES for op in ops):
        raise ValueError(f"must be a comma-separated list of {', '.join(OP_CLASSES)}")
    return ops


@dataclass(frozen=True)
class _Key:
    field: str
    faults: tuple[str, ...]
    parse: Callable[[str], Any]


KEYS = {
    "read-delay-ms": _Key("read_delay_ms", ("slow-disk",), _number(0)),
    "write-delay-ms": _Key("write_delay_ms", ("slow-disk",), _number(0)),
    "fsync-delay-ms": _Key("fsync_delay_ms", ("slow-disk",), _number(0)),
    "error-probability": _Key("error_probability", ("disk-error",), _number(0, 1)),
    "error-ops": _Key("error_ops", ("disk-error",), _error_ops),
    "disk-budget-bytes": _Key("disk_budget_bytes", ("disk-full",), _number(0, kind=int)),
    "corrupt-file": _Key("corrupt_file", ("corrupt-file",), _choice(KINDS)),
    "corrupt-mode": _Key("corrupt_mode", ("corrupt-file",), _choice(MODES)),
    "bitflips": _Key("bitflips", ("corrupt-file",), _number(1, kind=int)),
    "truncate-bytes": _Key("truncate_bytes", ("corrupt-file",), _number(1, kind=int)),
    "disk-entries": _Key("disk_entries", ("lose-unsynced", "torn-write"), _choice(ENTRY_MODELS)),
}
"""Each option key: the field it sets, the faults it is for, and how its value is read."""

_MODE_KEYS = {"bitflips": "bitflip", "truncate-bytes": "truncate"}


@dataclass(frozen=True)
class DiskOptions:
    read_delay_ms: float = 0.0
    write_delay_ms: float = 5.0
    fsync_delay_ms: float = 50.0
    error_probability: float = 1.0
    error_ops: tuple[str, ...] = ("write", "fsync")
    disk_budget_bytes: int = 0
    corrupt_file: str | None = None
    """The kind of file to corrupt; None: closed-segment on a broker, keeper-log on a keeper."""
    corrupt_mode: str = "bitflip"
    bitflips: int = 8
    truncate_bytes: int = 64
    disk_entries: str = STRICT
    """When directory entries survive a power loss: at their directory's fsync (strict), or at any fsync."""

    @classmethod
    def parse(cls, options: Mapping[str, str], faults: tuple[str, ...]) -> DiskOptions:
        """The options of a run that injects `faults`; SpecError names the first bad key or value."""
        values: dict[str, Any] = {}
        for key, text in options.items():
            spec = KEYS.get(key)
            if spec is None:
                raise SpecError(f"nemesis_options: unknown key {key!r}; known: {', '.join(KEYS)}")
            if not set(spec.faults) & set(faults):
                raise SpecError(f"nemesis_options: {key} is an option of the {' and '.join(spec.faults)} "
                                f"fault{'s' if len(spec.faults) > 1 else ''}, which this run does not inject")
            try:
                values[spec.field] = spec.parse(str(text).strip())
            except ValueError as error:
                raise SpecError(f"nemesis_options: {key}={text!r}: {error}") from None
        chosen = cls(**values)
        for key, mode in _MODE_KEYS.items():
            if key in options and chosen.corrupt_mode != mode:
                raise SpecError(f"nemesis_options: {key} applies to corrupt-mode={mode}, "
                                f"not corrupt-mode={chosen.corrupt_mode}")
        return chosen

    def slow(self) -> DiskFaults:
        return DiskFaults(read_delay=self.read_delay_ms / 1000, write_delay=self.write_delay_ms / 1000,
                          fsync_delay=self.fsync_delay_ms / 1000)

    def errors(self, seed: int) -> DiskFaults:
        return DiskFaults(error_probability=self.error_probability, error_ops=self.error_ops, seed=seed)

    def full(self) -> DiskFaults:
        return DiskFaults(budget=self.disk_budget_bytes)

    def corrupt_kind(self, role: str) -> str:
        return self.corrupt_file or DEFAULT_KINDS[role]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

