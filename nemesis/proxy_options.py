"""The proxy faults' options: their family of `--nemesis-option KEY=VALUE`s (options.py).

KEYS below is the one list of the family's keys; docs/proxy-faults.md describes each. Every value
becomes a toxic's attribute as Toxiproxy names it (latency and jitter in ms, rate in KB/s, ...), so the
units of the keys are Toxiproxy's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cluster.deploy.proxy_routes import LINKS
from nemesis import options
from nemesis.options import OptionKey, choice, number

FAULTS = ("latency", "bandwidth", "slow-close", "reset", "timeout", "flaky")
STREAMS = {"downstream": ("downstream",), "upstream": ("upstream",), "both": ("downstream", "upstream")}
"""Toxiproxy's streams: downstream is what the node behind the proxy sends back, upstream what is sent to it."""
DIRECTIONS = ("to", "from", "both")
"""Which proxies of a target: those in front of it (to), those only it dials (from: keeper and quorum links)."""


def _links(text: str) -> tuple[str, ...]:
    links = tuple(dict.fromkeys(link.strip() for link in text.split(",") if link.strip()))
    if not links or any(link not in LINKS for link in links):
        raise ValueError(f"must be a comma-separated list of {', '.join(LINKS)}")
    return links


KEYS = {
    "latency-ms": OptionKey("latency_ms", ("latency",), number(0, kind=int)),
    "jitter-ms": OptionKey("jitter_ms", ("latency",), number(0, kind=int)),
    "rate-kb-per-s": OptionKey("rate_kb_per_s", ("bandwidth",), number(0, kind=int)),
    "delay-ms": OptionKey("delay_ms", ("slow-close",), number(0, kind=int)),
    "timeout-ms": OptionKey("timeout_ms", ("timeout",), number(0, kind=int)),
    "reset-after-ms": OptionKey("reset_after_ms", ("reset", "flaky"), number(0, kind=int)),
    "reset-probability": OptionKey("reset_probability", ("flaky",), number(0, 1)),
    "links": OptionKey("links", FAULTS, _links),
    "stream": OptionKey("stream", FAULTS, choice(tuple(STREAMS))),
    "direction": OptionKey("direction", FAULTS, choice(DIRECTIONS)),
}
"""Each option key: the field it sets, the faults it is for, and how its value is read."""


@dataclass(frozen=True)
class Toxic:
    """What a fault puts on each proxy it acts on, per stream: a toxic of Toxiproxy's `kind`."""

    kind: str
    attributes: dict[str, Any]
    toxicity: float = 1.0


@dataclass(frozen=True)
class ProxyOptions:
    latency_ms: int = 200
    jitter_ms: int = 0
    rate_kb_per_s: int = 64
    delay_ms: int = 1000
    """slow-close: how long a proxy holds a connection's close before passing it on."""
    timeout_ms: int = 0
    """timeout: 0 holds all data until the fault stops (a black hole); more closes the connection after that long."""
    reset_after_ms: int = 0
    reset_probability: float = 0.3
    """flaky: the share of connections (each decided when it meets the toxic) that are reset."""
    links: tuple[str, ...] = LINKS
    stream: str = "both"
    direction: str = "to"

    @classmethod
    def parse(cls, given: Mapping[str, str], faults: tuple[str, ...]) -> ProxyOptions:
        """The proxy options of a run that injects `faults`; SpecError names the first bad key or value."""
        return options.parse(cls, KEYS, given, faults)

    @property
    def streams(self) -> tuple[str, ...]:
        return STREAMS[self.stream]

    def toxic(self, fault: str) -> Toxic:
        toxics = {
            "latency": Toxic("latency", {"latency": self.latency_ms, "jitter": self.jitter_ms}),
            "bandwidth": Toxic("bandwidth", {"rate": self.rate_kb_per_s}),
            "slow-close": Toxic("slow_close", {"delay": self.delay_ms}),
            "reset": Toxic("reset_peer", {"timeout": self.reset_after_ms}),
            "timeout": Toxic("timeout", {"timeout": self.timeout_ms}),
            "flaky": Toxic("reset_peer", {"timeout": self.reset_after_ms}, self.reset_probability),
        }
        return toxics[fault]

    def parameters(self, fault: str) -> dict[str, Any]:
        """The fault's settings as the history and the plots name them: its keys (in snake case), links, stream,
        direction."""
        own = [spec.field for spec in KEYS.values() if fault in spec.faults and spec.faults != FAULTS]
        return {**{field: getattr(self, field) for field in own}, "links": ",".join(self.links), "stream": self.stream,
                "direction": self.direction}
