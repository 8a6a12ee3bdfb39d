"""Deleted by retention is not lost: what the log starts observed in a queue history explain.

A broker deletes a partition's oldest segments when retention.ms or retention.bytes is breached
and moves the partition's log start past them; a consumer whose position fell below it gets
OFFSET_OUT_OF_RANGE and, with auto.offset.reset=earliest, goes on from the new log start. So an
acknowledged send that no poll read, at an offset below a log start the partition was seen to
have, was deleted, not lost; and a consumer that stepped over offsets which all lie below such a
log start skipped deleted records, not existing ones.

The queue workload's final reads record the log starts (op `log-starts`, value {"<partition>":
offset}); each partition's highest one counts, since a log start only moves forward. It is seen
at the end of the run, so a record below it may have been deleted after a consumer stepped over
it rather than before: a skip of records retention deleted later passes as retention's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checkers.queue_ops import parse_log_starts
from harness.history import Op

LOG_STARTS = "log-starts"
"""The op that records each partition's log start."""


@dataclass
class Retention:
    """The highest log start observed per partition, and the cases it explains: counts and the first examples."""

    log_starts: dict[int, int]
    shown: int
    """Examples kept of each kind; counts are always complete."""
    deleted: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    skips: int = 0
    skip_examples: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def observed(cls, ops: list[Op], shown: int) -> Retention:
        """From every successful log-starts op; a failed or unknown one says nothing."""
        starts: dict[int, int] = {}
        for op in ops:
            if op.f == LOG_STARTS and op.type == "ok":
                for partition, offset in parse_log_starts(op).items():
                    starts[partition] = max(offset, starts.get(partition, 0))
        return cls(starts, shown)

    def below_log_start(self, partition: int, offset: int) -> bool:
        return offset < self.log_starts.get(partition, 0)

    def deleted_send(self, case: dict[str, Any]) -> None:
        """An acknowledged send nobody read, below its partition's log start."""
        self.deleted += 1
        if len(self.examples) < self.shown:
            self.examples.append({**case, "log_start": self.log_starts[case["partition"]]})

    def skipped_deleted(self, case: dict[str, Any]) -> None:
        """A consumer's step over offsets that all lie below its partition's log start."""
        self.skips += 1
        if len(self.skip_examples) < self.shown:
            self.skip_examples.append({**case, "log_start": self.log_starts[case["partition"]]})

    def to_dict(self) -> dict[str, Any]:
        return {"log_starts": {str(p): offset for p, offset in sorted(self.log_starts.items())},
                "deleted": self.deleted, "examples": self.examples,
                "skips": self.skips, "skip_examples": self.skip_examples}

    def reasons(self) -> list[str]:
        """Lines for the verdict's reasons: what was not counted as loss or as a skip, and why."""
        lines = []
        if self.deleted:
            lines.append(f"{self.deleted} acknowledged send(s) never read lay below their partition's log start: "
                         "deleted by retention, not lost")
        if self.skips:
            lines.append(f"{self.skips} consumer step(s) skipped only offsets below the log start: records "
                         "retention deleted, not a poll-skip")
        return lines

