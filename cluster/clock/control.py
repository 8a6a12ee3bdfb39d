"""A node's wall-clock shift: the control file the harness writes and the preload library reads.

The preload library (native/clock_shift/) adds a shift to every CLOCK_REALTIME reading of the
processes it is loaded into; it maps this file shared and read-only, so a change written here is
seen at their next call, without signals or restarts. The shift is a function of CLOCK_MONOTONIC
(the same clock on the host and in every container), computed by the reader at each call: a skewed
rate or a strobe needs no further writes. ClockState.shift_ns is that function, and the library's
is the same one, term by term (tests/clock/ check that they agree).

The file is 64 bytes, little-endian, at offsets:
     0  magic b"LQCK"             4  version u32 (1)
     8  sequence u64: odd while the writer is writing (a seqlock: readers retry)
    16  offset_ns i64            24  rate f64
    32  anchor_ns i64            40  strobe_delta_ns i64
    48  strobe_period_ns i64     56  strobe_until_ns i64
A reader that sees a bad magic, an unknown version or a short file uses true time. The file is
never truncated once made (a reader's mapping would fault): create() writes a whole new one and
renames it into place; the writer's stores reach readers in program order (x86-64's memory model).
"""

from __future__ import annotations

import math
import mmap
import os
import struct
import time
from dataclasses import dataclass, replace
from pathlib import Path

MAGIC = b"LQCK"
VERSION = 1
HEADER = struct.Struct("<4sI")
SEQUENCE = struct.Struct("<Q")
FIELDS = struct.Struct("<qdqqqq")
SEQUENCE_OFFSET = HEADER.size
FIELDS_OFFSET = SEQUENCE_OFFSET + SEQUENCE.size
SIZE = FIELDS_OFFSET + FIELDS.size

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


def saturate(value: int) -> int:
    """Clamps to i64, as the library's saturating arithmetic does."""
    return max(I64_MIN, min(I64_MAX, value))


def truncate_to_i64(value: float) -> int:
    """Rust's `f64 as i64`: toward zero, saturating, NaN to 0."""
    if math.isnan(value):
        return 0
    if value >= 2.0**63:
        return I64_MAX
    if value < -(2.0**63):
        return I64_MIN
    return int(value)


@dataclass(frozen=True)
class ClockState:
    """What a node's clock is told: wall time = true wall time + shift_ns(CLOCK_MONOTONIC now)."""

    offset_ns: int = 0
    rate: float = 1.0
    """1.0 is true rate; 2.0 runs twice as fast, 0.5 half as fast (from anchor_ns on)."""
    anchor_ns: int = 0
    """CLOCK_MONOTONIC nanoseconds when the rate took effect."""
    strobe_delta_ns: int = 0
    """Added to the shift in every other strobe period while the strobe lasts."""
    strobe_period_ns: int = 0
    """0: no strobe."""
    strobe_until_ns: int = 0
    """CLOCK_MONOTONIC nanoseconds when the strobe ends."""

    def __post_init__(self) -> None:
        for name in ("offset_ns", "anchor_ns", "strobe_delta_ns", "strobe_period_ns", "strobe_until_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or not I64_MIN <= value <= I64_MAX:
                raise ValueError(f"clock {name} must be an integer within 64 bits, not {value!r}")
        if not (isinstance(self.rate, (int, float)) and math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"clock rate must be a finite number above 0, not {self.rate!r}")
        if self.strobe_period_ns < 0:
            raise ValueError(f"clock strobe period must be at least 0 ns, not {self.strobe_period_ns}")

    def shift_ns(self, monotonic_ns: int) -> int:
        """The shift at `monotonic_ns`: offset, plus the drift of the rate since the anchor, plus the
        strobe's delta in its odd periods (counted from monotonic 0) until it ends."""
        elapsed = saturate(monotonic_ns - self.anchor_ns)
        drift = truncate_to_i64((float(self.rate) - 1.0) * float(elapsed))
        shift = saturate(self.offset_ns + drift)
        if self.strobing(monotonic_ns) and (monotonic_ns // self.strobe_period_ns) % 2 == 1:
            shift = saturate(shift + self.strobe_delta_ns)
        return shift

    def strobing(self, monotonic_ns: int) -> bool:
        return self.strobe_period_ns > 0 and monotonic_ns < self.strobe_until_ns

    def encode(self) -> bytes:
        """The fields as they follow the sequence number in the file."""
        return FIELDS.pack(self.offset_ns, float(self.rate), self.anchor_ns, self.strobe_delta_ns,
                           self.strobe_period_ns, self.strobe_until_ns)

    @classmethod
    def decode(cls, fields: bytes) -> ClockState:
        offset, rate, anchor, delta, period, until = FIELDS.unpack(fields)
        return cls(offset, rate, anchor, delta, period, until)


def encode_file(state: ClockState, sequence: int = 0) -> bytes:
    """A whole control file holding `state` (sequence even: not being written)."""
    return HEADER.pack(MAGIC, VERSION) + SEQUENCE.pack(sequence) + state.encode()


class ClockControl:
    """One node's control file, written by the harness (the nemesis), read by the node's processes.

    Only one ClockControl writes a file; its changes are computed at CLOCK_MONOTONIC now, the
    moment they are written, so that a skew change leaves the clock continuous."""

    def __init__(self, path: Path, memory: mmap.mmap, state: ClockState) -> None:
        self.path = path
        self.memory = memory
        self.current = state

    @classmethod
    def create(cls, path: Path) -> ClockControl:
        """Writes a control file that says true time (the directory must exist) and opens it for
        writing; a file already there is replaced whole, never truncated under its readers."""
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot create the clock control file {path}: {path.parent} does not exist")
        temporary = path.with_name(path.name + ".tmp")
        state = ClockState()
        temporary.write_bytes(encode_file(state))
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        fd = os.open(path, os.O_RDWR)
        try:
            memory = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        return cls(path, memory, state)

    def state(self) -> ClockState:
        return self.current

    def shift_ns(self) -> int:
        """The shift the node's processes apply now."""
        return self.current.shift_ns(time.monotonic_ns())

    def bump(self, delta_ns: int) -> ClockState:
        """The clock jumps by `delta_ns` (negative: back); its rate and any strobe are kept."""
        return self.write(replace(self.current, offset_ns=saturate(self.current.offset_ns + delta_ns)))

    def skew(self, rate: float) -> ClockState:
        """From now on the clock runs at `rate`, continuing from where it is now."""
        now = time.monotonic_ns()
        carried = replace(self.current, strobe_period_ns=0).shift_ns(now)
        return self.write(replace(self.current, offset_ns=carried, rate=rate, anchor_ns=now))

    def strobe(self, delta_ns: int, period_ns: int, duration_ns: int) -> ClockState:
        """For `duration_ns` the clock flips between its shift and its shift + `delta_ns` every
        `period_ns`."""
        if period_ns <= 0 or duration_ns < 0:
            raise ValueError(f"a clock strobe needs a period above 0 and a duration of at least 0, "
                             f"not {period_ns} ns and {duration_ns} ns")
        until = saturate(time.monotonic_ns() + duration_ns)
        return self.write(replace(self.current, strobe_delta_ns=delta_ns, strobe_period_ns=period_ns,
                                  strobe_until_ns=until))

    def reset(self) -> ClockState:
        """True time."""
        return self.write(ClockState())

    def write(self, state: ClockState) -> ClockState:
        """Stores `state` under the seqlock: odd sequence, fields, even sequence."""
        (sequence,) = SEQUENCE.unpack_from(self.memory, SEQUENCE_OFFSET)
        SEQUENCE.pack_into(self.memory, SEQUENCE_OFFSET, (sequence + 1) % 2**64)
        self.memory[FIELDS_OFFSET:SIZE] = state.encode()
        SEQUENCE.pack_into(self.memory, SEQUENCE_OFFSET, (sequence + 2) % 2**64)
        self.current = state
        return state

    def close(self) -> None:
        """Stops writing; the file stays (its readers keep the last state) until its owner removes it."""
        self.memory.close()

