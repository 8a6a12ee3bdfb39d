"""What a cell of the claims matrix showed, from its runs' test.json and results.json alone.

The claim model (checkers.claim) says which anomalies a configuration forbids; the checkers count
every case as forbidden or allowed. A run is **broken** when its verdict is invalid (a forbidden
anomaly, or another claim such as availability, failed), **weakness shown** when it found an
anomaly its configuration allows, **weakness not shown** when its configuration allows anomalies
it did not find, **undecided** when it failed, was interrupted or the checkers could not tell, and
**holds** otherwise. A cell combines its runs: one broken run breaks it, one run that showed the
weakness shows it, any undecided run leaves it undecided, and it holds only when every run held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checkers.claim import Claim
from checkers.queue import allowed_anomalies
from logquake.runner import verdict_reasons

HOLDS = "holds"
BROKEN = "broken"
SHOWN = "weakness shown"
UNSHOWN = "weakness not shown"
UNDECIDED = "undecided"
OUTCOMES = (HOLDS, BROKEN, SHOWN, UNSHOWN, UNDECIDED)
SYMBOLS = {HOLDS: "✓", BROKEN: "✗", SHOWN: "~", UNSHOWN: "?", UNDECIDED: "!"}
MEANINGS = {
    HOLDS: "every run held the claim (no forbidden anomaly) and the configuration allows none",
    BROKEN: "a run found a forbidden anomaly or failed another claim: a bug, or a false claim",
    SHOWN: "a run found an anomaly the configuration allows (e.g. acks=1 loss)",
    UNSHOWN: "the configuration allows anomalies, but no run found one",
    UNDECIDED: "a run failed, was interrupted, or its checkers could not decide",
}
_CELL_ORDER = (BROKEN, SHOWN, UNDECIDED, UNSHOWN, HOLDS)
"""The first of these that any run of a cell had is the cell's outcome."""


@dataclass(frozen=True)
class RunOutcome:
    outcome: str
    reasons: list[str] = field(default_factory=list)
    forbidden: dict[str, int] = field(default_factory=dict)
    """Forbidden cases found, per anomaly."""
    allowed: dict[str, int] = field(default_factory=dict)
    """Allowed cases found, per anomaly."""
    possible: tuple[str, ...] = ()
    """The anomalies the configuration allows, found or not."""


def possible_anomalies(test: Mapping[str, Any], results: Mapping[str, Any]) -> tuple[str, ...]:
    """The anomalies of the run's checker that its configuration allows: what a fault could find without breaking
    the claim. A checker whose claim lists them ("allows", as AmqpClaim's) says so itself; for the others the Kafka
    claim model decides. A linearizability checker's violation is allowed only after a power loss its nodes do not
    survive."""
    part = _workload_results(test, results)
    names = tuple(part.get("anomalies") or ())
    claim = part.get("claim") or {}
    stated = claim.get("allows")
    allowed = set(stated) if isinstance(stated, list) else set(allowed_anomalies(Claim.from_test(dict(test))))
    if claim.get("durable_against_power_loss") is False:
        allowed.add("nonlinearizable")
    return tuple(name for name in names if name in allowed)


def run_outcome(test: Mapping[str, Any], results: Mapping[str, Any]) -> RunOutcome:
    """One run's outcome, with the verdict's reasons and the cases it counted."""
    part = _workload_results(test, results)
    anomalies = part.get("anomalies") or {}
    forbidden = {name: int(a.get("forbidden", 0)) for name, a in anomalies.items() if a.get("forbidden")}
    allowed = {name: int(a.get("allowed", 0)) for name, a in anomalies.items() if a.get("allowed")}
    reasons = verdict_reasons(dict(results))
    possible = possible_anomalies(test, results)
    if isinstance((part.get("claim") or {}).get("allows"), list):
        allowed = {name: count for name, count in allowed.items() if name in possible}
    if results.get("interrupted") or results.get("valid") not in (True, False):
        outcome = UNDECIDED
    elif results["valid"] is False:
        outcome = SHOWN if part.get("expected") else BROKEN
    elif allowed:
        outcome = SHOWN
    else:
        outcome = UNSHOWN if possible else HOLDS
    return RunOutcome(outcome, reasons, forbidden, allowed, possible)


def cell_outcome(runs: Iterable[str]) -> str:
    """A cell's outcome from its runs' (undecided when none ran)."""
    seen = set(runs)
    unknown = seen - set(OUTCOMES)
    if unknown:
        raise ValueError(f"not outcomes: {', '.join(sorted(unknown))}")
    return next((outcome for outcome in _CELL_ORDER if outcome in seen), UNDECIDED)


def exit_status(cells: Iterable[str], fail_on_unshown: bool = False) -> int:
    """0 when no claim broke and every cell was decided, 1 when one broke (or a weakness went unshown, if that
    fails too), 2 when a cell could not be decided and none broke."""
    outcomes = list(cells)
    if BROKEN in outcomes or (fail_on_unshown and UNSHOWN in outcomes):
        return 1
    return 2 if UNDECIDED in outcomes else 0


def _workload_results(test: Mapping[str, Any], results: Mapping[str, Any]) -> Mapping[str, Any]:
    part = results.get(str(test.get("workload", "")))
    return part if isinstance(part, Mapping) else {}
