"""The partition fault's options: its family of `--nemesis-option KEY=VALUE`s (options.py).

KEYS below is the one list of the family's keys; docs/partitions.md describes each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nemesis import options
from nemesis.options import OptionKey, number

KEYS = {
    "escalate-after-s": OptionKey("escalate_after_s", ("partition",), number(0)),
}
"""Each option key: the field it sets, the faults it is for, and how its value is read."""


@dataclass(frozen=True)
class PartitionOptions:
    escalate_after_s: float = 5.0
    """How long each stage of an escalating partition (`A>B`) holds before the next stage's links are cut too."""

    @classmethod
    def parse(cls, given: Mapping[str, str], faults: tuple[str, ...]) -> PartitionOptions:
        return options.parse(cls, KEYS, given, faults)
