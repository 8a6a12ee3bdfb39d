"""The packet faults' options: their family of `--nemesis-option KEY=VALUE`s (options.py).

KEYS below is the one list of the family's keys; docs/packet-faults.md describes each. Keys name the
packet faults they set (packet-delay-ms, not latency-ms), as the proxy faults' latency is another thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cluster.deploy.packet_rules import DIRECTIONS
from cluster.packets.handling import PacketFault
from nemesis import options
from nemesis.options import OptionKey, choice, number

LOSS = "packet-loss"
DELAY = "packet-delay"
DUPLICATE = "packet-duplicate"
REORDER = "packet-reorder"
CORRUPT = "packet-corrupt"
HANDLED = (DELAY, DUPLICATE, REORDER, CORRUPT)
"""The packet faults an NFQUEUE handler applies (packet-loss is an iptables rule alone)."""
FAULTS = (LOSS, *HANDLED)

KEYS = {
    "loss-probability": OptionKey("loss_probability", (LOSS,), number(0, 1)),
    "packet-delay-ms": OptionKey("delay_ms", (DELAY,), number(0, 60_000)),
    "packet-jitter-ms": OptionKey("jitter_ms", (DELAY,), number(0, 60_000)),
    "duplicate-probability": OptionKey("duplicate_probability", (DUPLICATE,), number(0, 1)),
    "reorder-probability": OptionKey("reorder_probability", (REORDER,), number(0, 1)),
    "reorder-delay-ms": OptionKey("reorder_delay_ms", (REORDER,), number(0, 60_000)),
    "corrupt-probability": OptionKey("corrupt_probability", (CORRUPT,), number(0, 1)),
    "packet-direction": OptionKey("direction", FAULTS, choice(DIRECTIONS)),
}
"""Each option key: the field it sets, the faults it is for, and how its value is read."""


@dataclass(frozen=True)
class PacketOptions:
    loss_probability: float = 0.2
    delay_ms: float = 100.0
    jitter_ms: float = 20.0
    duplicate_probability: float = 0.2
    reorder_probability: float = 0.25
    reorder_delay_ms: float = 20.0
    """How long a reordered packet is held while the packets after it overtake it."""
    corrupt_probability: float = 0.05
    direction: str = "received"
    """Which of a target's packets: received from its peers, sent to them, or both (packet_rules.DIRECTIONS)."""

    @classmethod
    def parse(cls, given: Mapping[str, str], faults: tuple[str, ...]) -> PacketOptions:
        """The packet options of a run that injects `faults`; SpecError names the first bad key or value."""
        return options.parse(cls, KEYS, given, faults)

    def handled(self, fault: str) -> PacketFault:
        """The handler's settings for one of HANDLED."""
        if fault == DELAY:
            return PacketFault("delay", delay_ms=self.delay_ms, jitter_ms=self.jitter_ms)
        if fault == DUPLICATE:
            return PacketFault("duplicate", probability=self.duplicate_probability)
        if fault == REORDER:
            return PacketFault("reorder", probability=self.reorder_probability, delay_ms=self.reorder_delay_ms)
        if fault == CORRUPT:
            return PacketFault("corrupt", probability=self.corrupt_probability)
        raise ValueError(f"{fault!r} is no packet fault a handler applies: choose one of {', '.join(HANDLED)}")

    def parameters(self, fault: str) -> dict[str, float]:
        """What the start op's value shows of the fault's settings (the timeline's and plots' labels)."""
        if fault == LOSS:
            return {"loss_probability": self.loss_probability, "direction": self.direction}
        handled = self.handled(fault)
        shown = {DELAY: {"delay_ms": handled.delay_ms, "jitter_ms": handled.jitter_ms},
                 REORDER: {"probability": handled.probability, "delay_ms": handled.delay_ms}}
        return {**shown.get(fault, {"probability": handled.probability}), "direction": self.direction}
