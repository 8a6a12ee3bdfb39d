"""Checking a run's history for linearizability with pyporcupine, one key (register, partition) at a time.

Keys are independent objects (P-compositionality), so each key's operations are checked on their
own and get their own verdict: one key found not linearizable does not leave the others
undecided, and the results say which key broke. The whole check shares one time budget; a key it
cannot decide in time is "unknown", never valid. Every check writes pyporcupine's visualization of
all keys (illegal ones first) into the run directory, which the report links.

Operations reach pyporcupine the way its `jsonl` format reads the harness's history: `fail` did
not happen and is left out, `info` stays open to the end, a read of unknown outcome is left out.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkers.claim import Claim, Judge
from harness.history import NEMESIS, Event, HistoryError, Op, pair
from pyporcupine import CheckResult, LinearizationInfo, Operation, check_operations_verbose
from pyporcupine.formats.encoding import encode
from pyporcupine.formats.records import JepsenOp
from pyporcupine.models import KeyedModel
from pyporcupine.visualization import write_html

VISUALIZATION = "linearizability.html"
CHECK_TIMEOUT = 120.0
"""Seconds the whole check may take before the keys left are "unknown"."""
VERDICTS: dict[CheckResult, bool | str] = {CheckResult.OK: True, CheckResult.ILLEGAL: False,
                                           CheckResult.UNKNOWN: "unknown"}
EXAMPLES = 8
WORDS = {CheckResult.OK: "linearizable", CheckResult.ILLEGAL: "not linearizable", CheckResult.UNKNOWN: "unknown"}


@dataclass(frozen=True)
class KeyCheck:
    key: Hashable
    operations: list[Operation]
    result: CheckResult


def record(op: Op, key: Hashable, value: Any, result: Any) -> JepsenOp:
    """One harness op as pyporcupine's record: its interval, and its result only when it is known."""
    known = op.type == "ok"
    return JepsenOp(process=op.process, f=op.f, key=key, value=value, type=op.type, result=result if known else None,
                    call=op.start, return_time=op.end if known else None, where=f"op {op.index}")


def argument(op: Op, value: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """An op's value (of its invocation or completion) with the fields a workload's ops carry, or a clear error."""
    if not isinstance(value, dict) or not set(fields) <= value.keys():
        raise HistoryError(f"op {op.index}: a {op.f} of this workload carries {{{', '.join(fields)}}}, "
                           f"not {value!r:.80}")
    return value


def client_ops(history: list[Event]) -> list[Op]:
    """Client operations that may have happened: nemesis ops and definite failures are left out."""
    return [op for op in pair(history) if op.process != NEMESIS and op.type != "fail"]


def check_keys(model_name: str, records: list[JepsenOp], deadline: float | None = None) -> tuple[KeyedModel,
                                                                                                   list[KeyCheck],
                                                                                                   LinearizationInfo]:
    """Each key's records checked on their own, until `deadline` (time.monotonic()); keys in a stable order."""
    model, operations = encode(model_name, records)
    assert isinstance(model, KeyedModel), f"{model_name} records must carry keys"
    deadline = time.monotonic() + CHECK_TIMEOUT if deadline is None else deadline
    checks: list[KeyCheck] = []
    partitions = []
    for part in sorted(model.partition(operations), key=lambda ops: _order(model.key_of(ops[0].input))):
        remaining = deadline - time.monotonic()
        result, info = (check_operations_verbose(model, part, timeout=remaining) if remaining > 0 else
                        (CheckResult.UNKNOWN, LinearizationInfo([])))
        checks.append(KeyCheck(model.key_of(part[0].input), part, result))
        partitions += info.partitions
    return model, checks, LinearizationInfo(partitions)


def overall(results: Iterable[CheckResult]) -> CheckResult:
    """Illegal if any key is, unknown if any key is undecided, linearizable otherwise (and with no keys)."""
    results = set(results)
    for verdict in (CheckResult.ILLEGAL, CheckResult.UNKNOWN):
        if verdict in results:
            return verdict
    return CheckResult.OK


def visualize(model: KeyedModel, result: CheckResult, info: LinearizationInfo, out_dir: Path, title: str) -> str:
    """Writes the visualization into the run directory; returns its file name."""
    write_html(model, result, info, Path(out_dir) / VISUALIZATION, title=title)
    return VISUALIZATION


def _order(key: Hashable) -> tuple[bool, Any]:
    """Numbers by value, then everything else by its text: keys of mixed types still sort."""
    return (False, key) if isinstance(key, int) and not isinstance(key, bool) else (True, str(key))


def anomaly(rule: str, cases: list[dict[str, Any]], forbidden: bool) -> dict[str, Any]:
    """An anomaly entry in the queue checker's shape, which the report shows as a table row and examples."""
    count = len(cases)
    return {"count": count, "forbidden": count if forbidden else 0, "allowed": 0 if forbidden else count,
            "rule": rule, "examples": [{**case, "forbidden": forbidden} for case in cases[:EXAMPLES]]}


def verdict(anomalies: dict[str, dict[str, Any]], checks: list[KeyCheck]) -> tuple[bool | str, list[str]]:
    """Invalid with any forbidden case; unknown if a key is undecided or nothing was checked; valid otherwise."""
    reasons = [f"{a['forbidden']} {name}: forbidden" for name, a in anomalies.items() if a["forbidden"]]
    reasons += [f"{a['allowed']} {name}: allowed" for name, a in anomalies.items() if a["allowed"]]
    undecided = [check for check in checks if check.result is CheckResult.UNKNOWN]
    if any(a["forbidden"] for a in anomalies.values()):
        return False, reasons
    if undecided:
        return "unknown", reasons + [f"{len(undecided)} key(s) undecided within {CHECK_TIMEOUT:g}s "
                                     "(or the memory budget): no violation found there, which proves nothing"]
    if not checks:
        return "unknown", reasons + ["no operation can have happened: nothing to check"]
    return True, reasons


def key_case(check: KeyCheck) -> dict[str, Any]:
    return {"key": check.key, "operations": len(check.operations), "see": VISUALIZATION}


def results(model_name: str, checks: list[KeyCheck], anomalies: dict[str, dict[str, Any]],
            words: dict[Hashable, str], claim: dict[str, Any], visualization: str) -> dict[str, Any]:
    """A linearizability checker's results: verdict, claim, anomalies, each key's verdict in words, counts."""
    valid, reasons = verdict(anomalies, checks)
    return {
        "valid": valid, "reasons": reasons, "claim": claim, "anomalies": anomalies,
        "keys": {str(key): word for key, word in words.items()},
        "summary": {"keys": len(checks), "operations": sum(len(check.operations) for check in checks),
                    **{word: sum(w == word for w in words.values()) for word in sorted(set(words.values()))}},
        "model": model_name, "visualization": visualization,
    }


def with_durability(claim: dict[str, Any], config: Claim, role: str) -> dict[str, Any]:
    """A checker's claim with the configuration's power-loss promise for `role` nodes, in runs that cut power."""
    durability = config.durability_claim(role)
    if not durability:
        return claim
    return {**claim, **durability, "guarantees": [*claim.get("guarantees", []), config.durability(role)]}


def power_loss_verdict(checked: dict[str, Any], config: Claim, history: list[Event], role: str) -> dict[str, Any]:
    """Results whose non-linearizable keys, in a run that cut power, say whether the configuration allowed that.

    Linearizability was violated all the same, so the keys stay forbidden and the run invalid; but when
    the configuration let a power loss take acknowledged writes (forceSync=no, or brokers that do not
    flush before acknowledging), the results say the violation was expected ("expected"), and otherwise
    which guarantee it broke.
    """
    broken = checked["anomalies"]["nonlinearizable"]["count"]
    if not broken or not config.power_loss:
        return checked
    judgement = Judge(config, pair(history), role).acknowledged()
    if not judgement.why:
        return checked
    if judgement.forbidden:
        line = f"{broken} nonlinearizable: forbidden (broke: {judgement.why['broke']})"
        return {**checked, "reasons": [*checked["reasons"], line]}
    allowed = judgement.why["allowed"]
    return {**checked, "reasons": [*checked["reasons"], f"{broken} nonlinearizable: expected by this configuration "
                                                        f"({allowed})"],
            "expected": [allowed], "power_loss": judgement.why["power_loss"]}
