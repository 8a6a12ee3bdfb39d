"""The transactional checker's verdict: every anomaly found, each case judged by the claim (checkers.claim).

The passes: parse the transactions (model), infer each key's version order (versions), find the
anomalies that are no cycle (anomalies), build the dependency graph (graph) and search it for cycles
(cycles), then show each cycle in words and as a drawing in the run directory (render). The run is
invalid only when a forbidden case exists; allowed ones are counted and shown.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from checkers.claim import Claim
from checkers.txn.anomalies import RULES, find_anomalies
from checkers.txn.cycles import Cycle, base_name, find_cycles
from checkers.txn.graph import ORDERS, Dependencies, build_graph
from checkers.txn.model import Txn, parse_txns
from checkers.txn.render import describe, draw
from checkers.txn.versions import Versions, infer_versions
from harness.history import Event, pair

EXAMPLES = 8
"""Examples kept (and cycles drawn) per anomaly; counts are always complete."""
CYCLE_RULES = {
    "G0": "a cycle of write-order (ww) edges: a write cycle",
    "G1c": "a cycle of ww and wr edges with at least one wr: circular information flow (forbidden under "
           "read_committed when made of wr edges, and process or real-time order, alone)",
    "G-single": "a cycle with exactly one anti-dependency (rw) edge: read skew",
    "G2": "a cycle with two or more anti-dependency (rw) edges",
}
CYCLES_TEXT = "txn-cycles.txt"
CYCLES_DIR = "txn-cycles"
DEFAULT_ORDERS = ("process", "realtime")


def check_txn(test: dict[str, Any], history: list[Event], out_dir: Path | None = None) -> dict[str, Any]:
    """{"valid", "reasons", "claim", "anomalies", "summary", "files"}: the transactional workload's verdict.

    The test's `txn_orders` (default process and realtime; a list, or comma-separated text as the txn workload's
    option stores it) names the optional orders the graph draws,
    its `ww_deps` (default true) whether write order is drawn. Cycles are explained in CYCLES_TEXT and
    drawn under CYCLES_DIR in `out_dir`, when one is given."""
    claim = Claim.from_test(test)
    txns = parse_txns(pair(history))
    versions = infer_versions(txns)
    orders = _orders(test.get("txn_orders", DEFAULT_ORDERS))
    deps = build_graph(txns, versions, orders, ww=bool(test.get("ww_deps", True)))
    anomalies = {name: _judged(RULES[name], cases, claim.forbids_txn(name))
                 for name, cases in find_anomalies(txns, versions).items()}
    by_name: dict[str, list[Cycle]] = defaultdict(list)
    for cycle in find_cycles(deps.graph, deps.kinds, sum(ORDERS[order] for order in set(orders))):
        by_name[cycle.name].append(cycle)
    files = _render(by_name, deps, Path(out_dir)) if out_dir is not None and by_name else []
    for name in [*CYCLE_RULES, *sorted(set(by_name) - set(CYCLE_RULES))]:
        anomalies[name] = _cycle_anomaly(name, by_name.get(name, []), deps, claim, bool(files))
    valid, reasons = _verdict(anomalies, txns)
    return {"valid": valid, "reasons": reasons, "claim": claim.to_dict(), "anomalies": anomalies,
            "summary": _summary(txns, versions, deps), "files": files,
            **({"visualization": CYCLES_TEXT} if files else {})}


def _orders(orders: Any) -> tuple[str, ...]:
    """A list of order names, or the same as comma-separated text (the command line's option)."""
    if isinstance(orders, str):
        return tuple(name.strip() for name in orders.split(",") if name.strip())
    return tuple(orders)


def _cycle_anomaly(name: str, cycles: list[Cycle], deps: Dependencies, claim: Claim, drawn: bool) -> dict[str, Any]:
    """One cycle name's cases: every cycle judged and counted, the first EXAMPLES described."""
    base = base_name(name)
    forbidden = [base == "G1c" and cycle.information_flow_only and claim.forbids_txn(base) for cycle in cycles]
    examples = [{**describe(cycle, deps), "picture": f"{CYCLES_DIR}/{name}-{i}.svg" if drawn else None,
                 "forbidden": forbidden[i]} for i, cycle in enumerate(cycles[:EXAMPLES])]
    return {"count": len(cycles), "forbidden": sum(forbidden), "allowed": len(cycles) - sum(forbidden),
            "rule": CYCLE_RULES[base], "examples": examples}


def _judged(rule: str, cases: list[dict[str, Any]], forbidden: bool) -> dict[str, Any]:
    """One anomaly's cases, all judged alike by the claim: counted, the first EXAMPLES kept."""
    count = len(cases)
    return {"count": count, "forbidden": count if forbidden else 0, "allowed": 0 if forbidden else count,
            "rule": rule, "examples": [{**case, "forbidden": forbidden} for case in cases[:EXAMPLES]]}


def _render(by_name: dict[str, list[Cycle]], deps: Dependencies, out_dir: Path) -> list[str]:
    """Every cycle in words in one text file; the first EXAMPLES of each name drawn."""
    lines: list[str] = []
    files = [CYCLES_TEXT]
    for name, cycles in sorted(by_name.items()):
        for i, cycle in enumerate(cycles):
            lines += describe(cycle, deps)["explanation"] + [""]
            if i < EXAMPLES:
                draw(cycle, out_dir / CYCLES_DIR / f"{name}-{i}.svg")
                files.append(f"{CYCLES_DIR}/{name}-{i}.svg")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CYCLES_TEXT).write_text("\n".join(lines))
    return files


def _verdict(anomalies: dict[str, dict[str, Any]], txns: list[Txn]) -> tuple[bool | str, list[str]]:
    reasons = [f"{a['forbidden']} {name}: forbidden by this configuration" for name, a in anomalies.items()
               if a["forbidden"]]
    reasons += [f"{a['allowed']} {name}: allowed by this configuration" for name, a in anomalies.items()
                if a["allowed"]]
    if any(a["forbidden"] for a in anomalies.values()):
        return False, reasons
    if not any(txn.status == "ok" for txn in txns):
        return "unknown", reasons + ["no transaction committed: nothing to check"]
    return True, reasons


def _summary(txns: list[Txn], versions: Versions, deps: Dependencies) -> dict[str, Any]:
    return {"txns": {status: sum(t.status == status for t in txns) for status in ("ok", "fail", "info")},
            "committed": len(versions.committed), "keys": sorted(versions.at), "values_read": len(versions.read),
            "edges": deps.counts}
