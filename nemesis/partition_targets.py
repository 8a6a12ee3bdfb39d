"""Which targets the partition fault alone understands, and their check before a run deploys anything.

Shapes (grudges.SHAPES and primaries), explicit grudges (`DROPPERS:SENDERS[;...]`) and escalations of
them (`A>B`) are targets of the partition fault only, and need no offer from the workload: the
run checks them here, against the node names the deployment will give (brokers b1..bN, keepers
k1..kN), so a typo fails the command rather than every start op of the run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from harness.spec import SpecError
from nemesis import grudges
from nemesis.grudges import GrudgeError
from nemesis.targets import ROLE_GROUPS, ROLE_HOLDERS, is_node_name, names_a_node, node_names

PARTITION = "partition"
PRIMARIES = "primaries"
ESCALATION = ">"
"""Between the stages of an escalating partition: `A>B` cuts A's links, then also B's."""


def is_partition_target(target: str) -> bool:
    """Targets only the partition fault understands: its shapes, explicit grudges, and escalations of them."""
    return all(stage in (*grudges.SHAPES, PRIMARIES) or grudges.is_explicit(stage) for stage in target.split(ESCALATION))


def check_targets(faults: Sequence[str], targets: Sequence[str], brokers: int, keepers: int) -> None:
    """SpecError, before anything is deployed, for a shape the cluster is too small for, a malformed grudge, a
    grudge naming nodes the cluster lacks, or shapes in a run whose other faults would be aimed at them too."""
    shaped = [target for target in targets if is_partition_target(target)]
    if not shaped:
        return
    stray = [target for target in targets if is_node_name(target)]
    if stray and any(map(grudges.is_explicit, shaped)):
        raise SpecError(f"nemesis_targets: {', '.join(stray)} beside a grudge: targets are split at commas, so join "
                        f"the nodes of a grudge with '+' (e.g. b1:b2+b3)")
    others = [fault for fault in faults if fault != PARTITION]
    if PARTITION not in faults or others:
        raise SpecError(f"nemesis_targets: {', '.join(shaped)} can only be aimed at by the {PARTITION} fault alone "
                        f"(this run injects {', '.join(faults) or 'no fault'})")
    names = [f"k{i}" for i in range(1, keepers + 1)] + [f"b{i}" for i in range(1, brokers + 1)]
    try:
        for stage in (stage for target in shaped for stage in target.split(ESCALATION)):
            if stage in grudges.SHAPES:
                grudges.SHAPES[stage](names, random.Random(0))
            elif grudges.is_explicit(stage):
                for clause in grudges.parse_explicit(stage):
                    for term in (*clause.droppers, *clause.senders):
                        _check_term(term, brokers, keepers)
    except GrudgeError as error:
        raise SpecError(f"nemesis_targets: {error}") from None


def _check_term(term: str, brokers: int, keepers: int) -> None:
    if term in (*ROLE_GROUPS, *ROLE_HOLDERS, PRIMARIES) or names_a_node(term, brokers, keepers):
        return
    raise GrudgeError(f"grudge term {term!r} is no node of this cluster ({node_names(brokers, keepers)}) "
                      f"nor one of {', '.join((*ROLE_GROUPS, *ROLE_HOLDERS, PRIMARIES))}")
