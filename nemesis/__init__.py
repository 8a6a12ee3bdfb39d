"""Nemeses: the faults a run injects, as ops of process "nemesis" in the history.

`build(names, deployment, options)` gives one nemesis handling every named fault. Options:
"rng" (a random.Random, or "seed"), "roles" (which nodes shares draw from; brokers by default),
"topic" and "partition" (for the partition-leader target), "stop_timeout" (graceful stops),
"heal_timeout" (how long heal() waits for nodes to serve again), "lookup_timeout".
"""

from __future__ import annotations

from typing import Any

from cluster.deploy.deployment import Deployment
from nemesis.base import Composite, Nemesis, NemesisError
from nemesis.process import FAULTS as PROCESS_FAULTS
from nemesis.process import Claims, ProcessFault

__all__ = ["FAULTS", "Nemesis", "NemesisError", "build"]

FAULTS = PROCESS_FAULTS


def build(names: list[str], deployment: Deployment, options: dict[str, Any]) -> Nemesis:
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    claims = Claims()
    return Composite([ProcessFault(name, deployment, options, claims) for name in dict.fromkeys(names)])
