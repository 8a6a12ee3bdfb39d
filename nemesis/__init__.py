"""Nemeses: the faults a run injects, as ops of process "nemesis" in the history.

`build(names, deployment, options)` gives one nemesis handling every named fault: kill, pause and
restart (process.py), partition (net.py: iptables cuts between the targets and the rest of the
cluster) and isolate-leader (leader_isolation.py: acknowledged writes the next leader lacks, the
fault that must find loss under acks=1). Options: "rng" (a random.Random, or "seed"),
"roles" (which nodes shares draw from; brokers by default), "topic" and "partition" (for the
partition-leader target and isolate-leader), "stop_timeout" (graceful stops), "heal_timeout" (how
long heal() waits for nodes to serve again), "lookup_timeout", "isolation_time" and
"election_timeout" (isolate-leader's pause of the followers, and its wait for the next leader).
"""

from __future__ import annotations

from typing import Any

from harness.seams import Deployment, Nemesis
from nemesis.base import Composite, NemesisError
from nemesis.leader_isolation import NAME as LEADER_ISOLATION
from nemesis.leader_isolation import LeaderIsolation
from nemesis.net import NAME as PARTITION
from nemesis.net import NetworkPartition
from nemesis.process import FAULTS as PROCESS_FAULTS
from nemesis.process import Claims, ProcessFault, kinds

__all__ = ["FAULTS", "NemesisError", "build"]

FAULTS = (*PROCESS_FAULTS, PARTITION, LEADER_ISOLATION)


def build(names: list[str], deployment: Deployment, options: dict[str, Any]) -> Nemesis:
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    claims = Claims()
    process_kinds = kinds(float(options.get("stop_timeout", 30)))
    special = {LEADER_ISOLATION: LeaderIsolation, PARTITION: NetworkPartition}
    return Composite([special[name](deployment, options, claims) if name in special
                      else ProcessFault(process_kinds[name], deployment, options, claims)
                      for name in dict.fromkeys(names)])
