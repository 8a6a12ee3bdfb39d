"""Clock faults: the targets' wall clocks bumped, strobed or skewed, as Jepsen's clock nemesis and TimeChaos do.

- clock-bump: each target's clock jumps by its own random amount (options bump-min-ms, bump-max-ms,
  bump-direction), as an NTP step or an operator's `date -s` would;
- clock-strobe: each target's clock flips between its time and its own random offset from it every
  strobe-period-ms, for strobe-duration-ms (until the fault stops by default);
- clock-skew: each target's clock runs at its own random rate (skew-min-rate to skew-max-rate).

Only the wall clock moves (CLOCK_REALTIME, gettimeofday, time, through the deployment's preload:
cluster/deploy/node_clocks.py); monotonic clocks keep true time, as with a real clock step, so what
a node does wrong is what it does with wall time. stop-X resets the targets' clocks, and heal resets
every node's (the nemesis's clock-reset). Targets and claims are the process faults' (process.py).
Every ok value carries "clocks", every node's clock right after the op, so the history alone draws
the clock plot (checkers/clock.py).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from cluster.clock import ClockControl, ClockState
from harness.seams import Deployment, Node
from nemesis.base import NemesisError
from nemesis.clock_options import BUMP, FAULTS, SKEW, STROBE, ClockOptions
from nemesis.process import Action, Claims, FaultKind, ProcessFault

__all__ = ["FAULTS", "RESET", "ClockFault", "clock_readings"]

RESET = "clock-reset"
_NS_PER_MS = 1_000_000
_UNTIL_STOPPED_NS = 2**63 - 1
"""A strobe of duration 0 lasts until the fault stops it."""


def clock_readings(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Every node's clock now: {node: {"offset_ms", "rate", "strobe": {"delta_ms", "period_ms", "remaining_ms"} or
    None}}; offset_ms leaves the strobe's delta out (a strobing clock is at offset_ms or offset_ms + delta_ms)."""
    now = time.monotonic_ns()
    return {node.name: _reading(_control(node), now) for node in deployment.nodes}


def _reading(control: ClockControl, now: int) -> dict[str, Any]:
    state = control.state()
    steady = replace(state, strobe_delta_ns=0, strobe_period_ns=0, strobe_until_ns=0)
    strobe = None
    if state.strobing(now):
        remaining = None if state.strobe_until_ns == _UNTIL_STOPPED_NS else (state.strobe_until_ns - now) / _NS_PER_MS
        strobe = {"delta_ms": state.strobe_delta_ns / _NS_PER_MS, "period_ms": state.strobe_period_ns / _NS_PER_MS,
                  "remaining_ms": remaining}
    return {"offset_ms": steady.shift_ns(now) / _NS_PER_MS, "rate": state.rate, "strobe": strobe}


def _control(node: Node) -> ClockControl:
    if node.clock is None:
        raise NemesisError(f"{node.name}'s wall clock is not under control: the deployment does not shift clocks")
    return node.clock


class ClockFault(ProcessFault):
    """One clock fault (start-X shifts each target's clock its own way, stop-X gives them true time again)."""

    def __init__(self, name: str, deployment: Deployment, options: dict[str, Any], claims: Claims,
                 settings: ClockOptions) -> None:
        shifts = {BUMP: ("bump", self._bump), STROBE: ("strobe", self._strobe), SKEW: ("skew", self._skew)}
        if name not in shifts:
            raise ValueError(f"{name!r} is no clock fault: choose one of {', '.join(FAULTS)}")
        kind = FaultKind(name, Action(*shifts[name]), Action(RESET, self._reset))
        super().__init__(kind, deployment, options, claims)
        without = [node.name for node in deployment.nodes if node.clock is None]
        if without:
            raise NemesisError(f"the {name} fault needs a deployment whose nodes' wall clocks it controls "
                               f"(ClusterSpec.clocks); {', '.join(without)} run on true time")
        self.settings = settings

    def _start(self, value: Any) -> dict[str, Any]:
        done = super()._start(value)
        return {**done, "parameters": self.settings.parameters(self.kind.name),
                "clocks": clock_readings(self.deployment)}

    def _stop(self) -> dict[str, Any]:
        return {**super()._stop(), "clocks": clock_readings(self.deployment)}

    def heal(self) -> list[dict[str, Any]]:
        """Releases the targets and gives every node true time, if any node's clock is off: the first clock fault
        healed resets every clock, so the others find nothing to do."""
        held = bool(self.held)
        if held:
            self._stop()
        wrong = [node for node in self.deployment.nodes if _control(node).state() != ClockState()]
        if not wrong and not held:
            return []
        for node in self.deployment.nodes:
            self._do(self.kind.stop, node, [])
        return [{"fault": "clock", "nodes": [node.name for node in self.deployment.nodes], "action": RESET,
                 "clocks": clock_readings(self.deployment)}]

    def _bump(self, node: Node) -> None:
        _control(node).bump(self.settings.bump_ms(self.rng) * _NS_PER_MS)

    def _strobe(self, node: Node) -> None:
        strobe = self.settings.strobe(self.rng)
        duration = strobe.duration_ms * _NS_PER_MS if strobe.duration_ms else _UNTIL_STOPPED_NS
        _control(node).strobe(strobe.delta_ms * _NS_PER_MS, strobe.period_ms * _NS_PER_MS, duration)

    def _skew(self, node: Node) -> None:
        _control(node).skew(self.settings.skew_rate(self.rng))

    @staticmethod
    def _reset(node: Node) -> None:
        _control(node).reset()
