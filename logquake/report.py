"""report.html: one self-contained page per run, from what the run directory holds.

It reads test.json and results.json (history.jsonl only to link it), embeds the PNG plots, and
links the timeline, the raw files, node logs and any other visualization (e.g. a pyporcupine
linearizability page) found in the directory. Reading the page from top to bottom answers: what
was tested, did the claim hold and why, which anomalies (with examples), what retention deleted
(not counted as loss), what disk faults did to the nodes' files, how long partitions were unwritable
under each fault, how did the run perform. The page is templates/report.html (the templates
`logquake serve` uses too); this module only gathers what it shows, as text: the template escapes it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from checkers.perf import FILES as PERF_FILES
from logquake.templating import render

REPORT = "report.html"
SHOWN_AS_SECTIONS = {REPORT, "test.json", "results.json", "history.jsonl", "timeline.html"}


class ReportError(ValueError):
    """The run directory lacks what a report needs; the message says what."""


def write_report(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    test = _read_json(run_dir / "test.json")
    results = _read_json(run_dir / "results.json")
    path = run_dir / REPORT
    path.write_text(render_report(run_dir, test, results), encoding="utf-8")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path.parent} has no {path.name}") from None
    except json.JSONDecodeError as error:
        raise ReportError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path} must hold a JSON object")
    return data


def render_report(run_dir: Path, test: dict[str, Any], results: dict[str, Any]) -> str:
    workload = str(test.get("workload", "queue"))
    checker = results.get(workload) if isinstance(results.get(workload), dict) else {}
    anomalies = checker.get("anomalies") or {}
    stats = results.get("stats") if isinstance(results.get("stats"), dict) and "by_f" in results["stats"] else None
    return render(
        "report.html", name=str(test.get("name", run_dir.name)), stamp=run_dir.name,
        word=_verdict_word(results.get("valid")), verdict_line=_verdict(results, checker),
        reasons=[str(r) for r in [*checker.get("reasons", []), *_availability_of(results).get("reasons", [])]],
        claim=(checker.get("claim") or {}).get("guarantees", []), anomalies=anomalies,
        examples={name: [_judged(example) for example in a["examples"]] for name, a in anomalies.items()},
        retention=_retention(checker), final_reads=_final_reads(checker), linearizability=_linearizability(checker),
        faults=results["faults"] if isinstance(results.get("faults"), dict) and results["faults"].get("by_fault")
        else None,
        disk=_disk(results.get("disk")), availability=_availability(_availability_of(results)),
        stats=stats, operations=[*stats["by_f"].items(), ("all client ops", stats["total"])] if stats else [],
        nemesis_ops=", ".join(f"{f}: {sum(n.values())}" for f, n in stats.get("nemesis", {}).items()) if stats else "",
        plots=_plots(run_dir), files=_files(run_dir), errors=results.get("errors") or {},
        test=[(str(key), json.dumps(value)) for key, value in test.items()])


def _verdict_word(valid: Any) -> str:
    if valid is True:
        return "valid"
    return "invalid" if valid is False else "unknown"


def _verdict(results: dict[str, Any], checker: dict[str, Any]) -> str:
    word = _verdict_word(results.get("valid"))
    forbidden = [f"{a['forbidden']} {name}" for name, a in checker.get("anomalies", {}).items() if a.get("forbidden")]
    allowed = [f"{a['allowed']} {name}" for name, a in checker.get("anomalies", {}).items() if a.get("allowed")]
    if word == "valid":
        line = "VALID: the configuration's claim held"
        if allowed:
            line += f" (allowed by the configuration: {', '.join(allowed)})"
    elif word == "invalid" and forbidden and checker.get("expected"):
        line = f"INVALID: {', '.join(forbidden)}, expected by this configuration ({'; '.join(checker['expected'])})"
    elif word == "invalid" and forbidden:
        line = f"INVALID: anomalies the configuration forbids: {', '.join(forbidden)}"
    elif word == "invalid" and _availability_of(results).get("violations"):
        line = "INVALID: a partition stayed unwritable longer than the availability claim allows (see below)"
    elif word == "invalid":
        line = "INVALID: a checker found the run invalid (see below)"
    else:
        line = "UNKNOWN: " + ("; ".join(_undecided(results)) or "the checkers could not decide")
    if results.get("interrupted"):
        line += ". The run was INTERRUPTED: these are partial results"
    return line


def _undecided(results: dict[str, Any]) -> list[str]:
    """Why the run, and each checker that could not decide, could not."""
    reasons = [str(results["error"])] if results.get("error") else []
    for name, result in results.items():
        if isinstance(result, dict) and result.get("valid") == "unknown":
            why = result.get("error") or result.get("reason") or "; ".join(result.get("reasons", []))
            reasons.append(f"{name}: {why}")
    return reasons


def _judged(example: dict[str, Any]) -> tuple[bool, str, str | None]:
    """Whether an anomaly example was forbidden, the example in words, and its picture if it has one: a
    dependency cycle (checkers.txn) comes with its explanation, a line per edge, and an SVG drawing."""
    forbidden = bool(example.get("forbidden"))
    if isinstance(example.get("explanation"), list):
        return forbidden, "\n".join(str(line) for line in example["explanation"]), example.get("picture")
    case = {key: value for key, value in example.items() if key != "forbidden"}
    return forbidden, describe(case), None


def describe(example: Any) -> str:
    """One line for an anomaly example; ops read as "#index (process p, type)"."""
    if isinstance(example, dict):
        if {"index", "process", "type"} <= example.keys():
            return f"#{example['index']} (process {example['process']}, {example['type']})"
        return ", ".join(f"{key.replace('_', ' ')} {describe(value)}" for key, value in example.items())
    if isinstance(example, list):
        return "[" + "; ".join(describe(item) for item in example) + "]"
    return json.dumps(example)


def _retention(checker: dict[str, Any]) -> dict[str, Any] | None:
    """What the log starts explain: acknowledged sends deleted by retention and consumer steps over them."""
    retention = checker.get("retention")
    if not isinstance(retention, dict):
        return None
    moved = {p: start for p, start in retention.get("log_starts", {}).items() if start}
    if not (moved or retention.get("deleted") or retention.get("skips")):
        return None
    starts = ", ".join(f"partition {p} at {start}" for p, start in moved.items()) or "none above 0"
    text = (f"Log starts seen by the final reads: {starts}. {retention.get('deleted', 0)} acknowledged send(s) "
            f"never read lay below them: deleted by retention, not lost. {retention.get('skips', 0)} consumer "
            "step(s) skipped only offsets below them: records retention deleted, not poll-skips.")
    examples = [*retention.get("examples", []), *retention.get("skip_examples", [])]
    return {"text": text, "examples": [describe(example) for example in examples]}


def _final_reads(checker: dict[str, Any]) -> str:
    final = checker.get("final_reads")
    if not final:
        return ""
    if not final["attempted"]:
        return "No final reads were attempted, so unseen sends cannot be told from lost ones."
    if final["complete"]:
        return "Final reads reached every partition's highest acknowledged offset."
    missing = "; ".join(f"partition {u['partition']}: acknowledged up to {u['highest_acknowledged']}, "
                        f"read up to {u['highest_read']}" for u in final["unreached"])
    return f"Final reads did not reach every acknowledged offset ({missing})."


def _linearizability(checker: dict[str, Any]) -> dict[str, Any] | None:
    """A linearizability checker's counts (register, log), the keys that were not linearizable, and its page."""
    keys = checker.get("keys")
    if not isinstance(keys, dict):
        return None
    counts = ", ".join(f"{n} {word}" for word, n in checker.get("summary", {}).items() if word not in ("keys",
                                                                                                      "operations"))
    text = (f"{len(keys)} key(s), {checker.get('summary', {}).get('operations', 0)} operations, checked one key at a "
            f"time with pyporcupine's {checker.get('model', '')} model: {counts or 'nothing to check'}.")
    return {"text": text, "broken": [(key, word) for key, word in keys.items() if word != "linearizable"],
            "page": checker.get("visualization")}


def _availability_of(results: dict[str, Any]) -> dict[str, Any]:
    availability = results.get("availability")
    return availability if isinstance(availability, dict) else {}


def _availability(availability: dict[str, Any]) -> dict[str, Any] | None:
    """Per fault kind the windows' and recoveries' p50 and max, then every fault's partitions; and the claim."""
    if not availability.get("faults"):
        return None
    limit = availability.get("max_unavailable_s")
    claim = (f"Availability claim: at most {limit:g} s on faults the configuration should survive (marked *)."
             if limit is not None else "No availability claim (--max-unavailable): measured, not judged.")
    return {**availability, "writes": str(availability.get("writes")), "claim": claim}


def _disk(disk: Any) -> dict[str, Any] | None:
    """Files the corrupt-file fault damaged (with where), and per power loss what each node's filesystem lost."""
    if not isinstance(disk, dict) or not (disk.get("corrupted") or disk.get("power_losses")):
        return None
    return {"corrupted": [(corrupted, _damage(corrupted)) for corrupted in disk.get("corrupted", [])],
            "power_losses": disk.get("power_losses", [])}


def _damage(corrupted: dict[str, Any]) -> str:
    if "offsets" in corrupted:
        return f"bits flipped at offsets {', '.join(map(str, corrupted['offsets']))}"
    if "bytes" in corrupted:
        return f"{corrupted['bytes']} bytes cut off the end"
    return ""


def _plots(run_dir: Path) -> list[tuple[str, str]]:
    """The PNG plots, the perf ones first, each with its bytes in base64 (the page embeds them)."""
    named = [f for f in PERF_FILES if (run_dir / f).is_file()]
    others = sorted(p.name for p in run_dir.glob("*.png") if p.name not in named)
    return [(file, base64.b64encode((run_dir / file).read_bytes()).decode("ascii")) for file in [*named, *others]]


def _files(run_dir: Path) -> dict[str, list[tuple[str, str]]]:
    known = [(f, label) for f, label in (
        ("timeline.html", "timeline of every operation per process"),
        ("history.jsonl", "the history, one operation per line"),
        ("results.json", "the checkers' results"),
        ("test.json", "the test specification"),
    ) if (run_dir / f).is_file()]
    rest = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")
                  if p.is_file() and p.relative_to(run_dir).as_posix() not in SHOWN_AS_SECTIONS
                  and p.suffix != ".png")
    visualizations = [(f, "linearizability visualization" if "linear" in f.lower() or "porcupine" in f.lower()
                       else "visualization") for f in rest if f.endswith(".html")]
    return {"known": known, "visualizations": visualizations,
            "logs": [(f, "") for f in rest if not f.endswith(".html")]}
