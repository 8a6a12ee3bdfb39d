"""The fault in force on one mount, and the gate every operation passes through.

Faults follow Chaos Mesh's IOChaos and CharybdeFS: a delay per operation class, EIO with a
probability on chosen classes, and ENOSPC once files grew by a byte budget. The classes:
- "read": read;
- "write": write, truncate, fallocate, create, mkdir (what allocates or changes data);
- "fsync": fsync, fdatasync, fsyncdir.
The budget counts growth only, from when the fault was set: overwrites within a file's size
always fit, and removing files does not give bytes back (space returns when the fault is cleared).
"""

from __future__ import annotations

import errno
import math
import random
import threading
import time
from dataclasses import asdict, dataclass

OP_CLASSES = ("read", "write", "fsync")


@dataclass(frozen=True)
class DiskFaults:
    read_delay: float = 0.0
    write_delay: float = 0.0
    fsync_delay: float = 0.0
    error_probability: float = 0.0
    error_ops: tuple[str, ...] = ("write", "fsync")
    budget: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("read_delay", "write_delay", "fsync_delay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
        if not isinstance(self.error_probability, (int, float)) or not 0 <= self.error_probability <= 1:
            raise ValueError(f"error_probability must be within [0, 1], not {self.error_probability!r}")
        unknown = [op for op in self.error_ops if op not in OP_CLASSES]
        if unknown or isinstance(self.error_ops, str):
            raise ValueError(f"error_ops must be a subset of {OP_CLASSES}, not {self.error_ops!r}")
        if self.budget is not None and (not isinstance(self.budget, int) or self.budget < 0):
            raise ValueError(f"budget must be a byte count >= 0 or None, not {self.budget!r}")
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, not {self.seed!r}")

    def to_dict(self) -> dict:
        return {**asdict(self), "error_ops": list(self.error_ops)}

    @classmethod
    def from_dict(cls, data: dict) -> DiskFaults:
        unknown = set(data) - {field for field in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"unknown disk fault field(s): {sorted(unknown)}")
        values = dict(data)
        if "error_ops" in values:
            if not isinstance(values["error_ops"], (list, tuple)):
                raise ValueError(f"error_ops must be a list, not {values['error_ops']!r}")
            values["error_ops"] = tuple(values["error_ops"])
        return cls(**values)


NO_FAULTS = DiskFaults()


class FaultGate:
    """Thread-safe: operations read the fault in force without a lock (it is replaced whole);
    the error draws and the budget, which change, are taken under one."""

    def __init__(self) -> None:
        self.faults = NO_FAULTS
        self._draws = random.Random(0)
        self._remaining: int | None = None
        self._counting = threading.Lock()

    def set(self, faults: DiskFaults) -> None:
        with self._counting:
            self._draws = random.Random(faults.seed)
            self._remaining = faults.budget
            self.faults = faults

    def clear(self) -> None:
        self.set(NO_FAULTS)

    def remaining_budget(self) -> int | None:
        return self._remaining

    def enter(self, op_class: str) -> None:
        """Waits the class's delay, then fails with EIO when the draw says so."""
        faults = self.faults
        if faults is NO_FAULTS:
            return
        delay = getattr(faults, f"{op_class}_delay")
        if delay:
            time.sleep(delay)
        if faults.error_probability and op_class in faults.error_ops:
            with self._counting:
                failed = self._draws.random() < faults.error_probability
            if failed:
                raise OSError(errno.EIO, f"injected {op_class} error")

    def admit(self, length: int, growth: int, partial: bool) -> int:
        """How many of length bytes may be written when they grow files by growth bytes: all,
        or (partial) as many as the budget leaves, as a full disk makes a short write; raises
        ENOSPC when none may."""
        if growth <= 0 or self._remaining is None:
            return length
        with self._counting:
            remaining = self._remaining
            if remaining is None or growth <= remaining:
                if remaining is not None:
                    self._remaining = remaining - growth
                return length
            admitted = length - (growth - remaining) if partial else 0
            if admitted <= 0:
                raise OSError(errno.ENOSPC, "injected full disk")
            self._remaining = 0
            return admitted
