"""The disk faults' options: their family of `--nemesis-option KEY=VALUE`s (options.py).

KEYS below is the one list of the family's keys; docs/chaos.md describes each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cluster.faultfs import ENTRY_MODELS, OP_CLASSES, STRICT, DiskFaults
from harness.spec import SpecError
from nemesis import options
from nemesis.corruption import DEFAULT_KINDS, KINDS, MODES
from nemesis.options import OptionKey, choice, number


def _error_ops(text: str) -> tuple[str, ...]:
    ops = tuple(dict.fromkeys(op.strip() for op in text.split(",") if op.strip()))
    if not ops or any(op not in OP_CLASSES for op in ops):
        raise ValueError(f"must be a comma-separated list of {', '.join(OP_CLASSES)}")
    return ops


KEYS = {
    "read-delay-ms": OptionKey("read_delay_ms", ("slow-disk",), number(0)),
    "write-delay-ms": OptionKey("write_delay_ms", ("slow-disk",), number(0)),
    "fsync-delay-ms": OptionKey("fsync_delay_ms", ("slow-disk",), number(0)),
    "error-probability": OptionKey("error_probability", ("disk-error",), number(0, 1)),
    "error-ops": OptionKey("error_ops", ("disk-error",), _error_ops),
    "disk-budget-bytes": OptionKey("disk_budget_bytes", ("disk-full",), number(0, kind=int)),
    "corrupt-file": OptionKey("corrupt_file", ("corrupt-file",), choice(KINDS)),
    "corrupt-mode": OptionKey("corrupt_mode", ("corrupt-file",), choice(MODES)),
    "bitflips": OptionKey("bitflips", ("corrupt-file",), number(1, kind=int)),
    "truncate-bytes": OptionKey("truncate_bytes", ("corrupt-file",), number(1, kind=int)),
    "disk-entries": OptionKey("disk_entries", ("lose-unsynced", "torn-write"), choice(ENTRY_MODELS)),
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
    def parse(cls, given: Mapping[str, str], faults: tuple[str, ...]) -> DiskOptions:
        """The disk options of a run that injects `faults`; SpecError names the first bad key or value."""
        chosen = options.parse(cls, KEYS, given, faults)
        for key, mode in _MODE_KEYS.items():
            if key in given and chosen.corrupt_mode != mode:
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

