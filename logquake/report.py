"""report.html: one self-contained page per run, from what the run directory holds.

It reads test.json and results.json (history.jsonl only to link it), embeds the PNG plots, and
links the timeline, the raw files, node logs and any other visualization (e.g. a pyporcupine
linearizability page) found in the directory. Reading the page from top to bottom answers: what
was tested, did the claim hold and why, which anomalies (with examples), what retention deleted
(not counted as loss), what disk faults did to the nodes' files, how long partitions were unwritable
under each fault, how did the run perform.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from checkers.perf import FILES as PERF_FILES

REPORT = "report.html"
SHOWN_AS_SECTIONS = {REPORT, "test.json", "results.json", "history.jsonl", "timeline.html"}

_STYLE = """
body { font: 14px/1.4 sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.verdict { font-size: 1.3em; padding: .5em .8em; border-radius: 4px; }
.valid { background: #dff0d8; } .invalid { background: #f2dede; } .unknown { background: #fcf8e3; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; }
tr.forbidden td { background: #f2dede; } tr.allowed td { background: #fcf8e3; }
code, pre { background: #f6f6f6; } pre { padding: .5em; overflow-x: auto; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.example { font-family: monospace; font-size: 12px; margin: 2px 0; }
ul.reasons { margin-top: .3em; }
"""


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
    name = html.escape(str(test.get("name", run_dir.name)))
    workload = str(test.get("workload", "queue"))
    checker = results.get(workload) if isinstance(results.get(workload), dict) else {}
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{name}: {html.escape(_verdict_word(results.get('valid')))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{name} <small>({html.escape(run_dir.name)})</small></h1>",
        _verdict(results, checker),
        _reasons([*checker.get("reasons", []), *_availability_of(results).get("reasons", [])]),
        _claim(checker),
        _anomalies(checker),
        _retention(checker),
        _final_reads(checker),
        _linearizability(checker),
        _faults(results.get("faults")),
        _disk(results.get("disk")),
        _availability(_availability_of(results)),
        _stats(results.get("stats")),
        _plots(run_dir, results),
        _files(run_dir),
        _errors(results),
        "<h2>Test</h2>", _key_values(test),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


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
    return f"<p class='verdict {word}'>{html.escape(line)}</p>"


def _undecided(results: dict[str, Any]) -> list[str]:
    """Why the run, and each checker that could not decide, could not."""
    reasons = [str(results["error"])] if results.get("error") else []
    for name, result in results.items():
        if isinstance(result, dict) and result.get("valid") == "unknown":
            why = result.get("error") or result.get("reason") or "; ".join(result.get("reasons", []))
            reasons.append(f"{name}: {why}")
    return reasons


def _reasons(reasons: list[Any]) -> str:
    """The checkers' reasons: which guarantee each kind of case broke, or what allowed it; availability violations."""
    if not reasons:
        return ""
    return "<ul class='reasons'>" + "".join(f"<li>{html.escape(str(r))}</li>" for r in reasons) + "</ul>"


def _claim(checker: dict[str, Any]) -> str:
    claim = checker.get("claim")
    if not claim:
        return ""
    items = "".join(f"<li>{html.escape(g)}</li>" for g in claim.get("guarantees", []))
    return f"<h2>What this configuration claims</h2><ul>{items}</ul>"


def _anomalies(checker: dict[str, Any]) -> str:
    anomalies = checker.get("anomalies")
    if not anomalies:
        return ""
    rows = []
    for name, a in anomalies.items():
        css = "forbidden" if a["forbidden"] else "allowed" if a["allowed"] else ""
        rows.append(f"<tr class='{css}'><td>{html.escape(name)}</td><td class='n'>{a['count']}</td>"
                    f"<td class='n'>{a['forbidden']}</td><td class='n'>{a['allowed']}</td>"
                    f"<td>{html.escape(a['rule'])}</td></tr>")
    parts = ["<h2>Anomalies</h2><table><tr><th>anomaly</th><th>count</th><th>forbidden</th><th>allowed</th>"
             "<th>what it is; when it makes a run invalid</th></tr>", *rows, "</table>"]
    for name, a in anomalies.items():
        if a["examples"]:
            shown = len(a["examples"])
            parts.append(f"<h3>{html.escape(name)}: {shown} of {a['count']} shown</h3>")
            parts += [f"<div class='example'>{_judged(example)}</div>" for example in a["examples"]]
    return "\n".join(parts)


def _judged(example: dict[str, Any]) -> str:
    case = {key: value for key, value in example.items() if key != "forbidden"}
    judgement = "<b>forbidden</b>" if example.get("forbidden") else "allowed"
    return f"{judgement}: {html.escape(describe(case))}"


def describe(example: Any) -> str:
    """One line for an anomaly example; ops read as "#index (process p, type)"."""
    if isinstance(example, dict):
        if {"index", "process", "type"} <= example.keys():
            return f"#{example['index']} (process {example['process']}, {example['type']})"
        return ", ".join(f"{key.replace('_', ' ')} {describe(value)}" for key, value in example.items())
    if isinstance(example, list):
        return "[" + "; ".join(describe(item) for item in example) + "]"
    return json.dumps(example)


def _retention(checker: dict[str, Any]) -> str:
    """What the log starts explain: acknowledged sends deleted by retention and consumer steps over them."""
    retention = checker.get("retention")
    if not isinstance(retention, dict):
        return ""
    moved = {p: start for p, start in retention.get("log_starts", {}).items() if start}
    if not (moved or retention.get("deleted") or retention.get("skips")):
        return ""
    starts = ", ".join(f"partition {p} at {start}" for p, start in moved.items()) or "none above 0"
    text = (f"Log starts seen by the final reads: {starts}. {retention.get('deleted', 0)} acknowledged send(s) "
            f"never read lay below them: deleted by retention, not lost. {retention.get('skips', 0)} consumer "
            "step(s) skipped only offsets below them: records retention deleted, not poll-skips.")
    examples = [*retention.get("examples", []), *retention.get("skip_examples", [])]
    shown = "".join(f"<div class='example'>{html.escape(describe(example))}</div>" for example in examples)
    return f"<h2>Deleted by retention</h2><p>{html.escape(text)}</p>{shown}"


def _final_reads(checker: dict[str, Any]) -> str:
    final = checker.get("final_reads")
    if not final:
        return ""
    if not final["attempted"]:
        text = "No final reads were attempted, so unseen sends cannot be told from lost ones."
    elif final["complete"]:
        text = "Final reads reached every partition's highest acknowledged offset."
    else:
        missing = "; ".join(f"partition {u['partition']}: acknowledged up to {u['highest_acknowledged']}, "
                            f"read up to {u['highest_read']}" for u in final["unreached"])
        text = f"Final reads did not reach every acknowledged offset ({missing})."
    return f"<h2>Final reads</h2><p>{html.escape(text)}</p>"


def _linearizability(checker: dict[str, Any]) -> str:
    """A linearizability checker's counts (register, log), the keys that were not linearizable, and its page."""
    keys = checker.get("keys")
    if not isinstance(keys, dict):
        return ""
    counts = ", ".join(f"{n} {word}" for word, n in checker.get("summary", {}).items() if word not in ("keys",
                                                                                                      "operations"))
    text = (f"{len(keys)} key(s), {checker.get('summary', {}).get('operations', 0)} operations, checked one key at a "
            f"time with pyporcupine's {checker.get('model', '')} model: {counts or 'nothing to check'}.")
    rows = "".join(f"<tr><td>{html.escape(key)}</td><td>{html.escape(word)}</td></tr>"
                   for key, word in keys.items() if word != "linearizable")
    table = f"<table><tr><th>key</th><th>verdict</th></tr>{rows}</table>" if rows else ""
    page = checker.get("visualization")
    link = (f"<p>Each key's operations on a time axis, the longest linearization found and where it breaks: "
            f"<a href='{html.escape(page)}'>{html.escape(page)}</a></p>") if page else ""
    return f"<h2>Linearizability</h2><p>{html.escape(text)}</p>{table}{link}"


def _faults(faults: Any) -> str:
    """Which named faults started, how often, on which nodes; a named fault that never ran is called out."""
    if not isinstance(faults, dict) or not faults.get("by_fault"):
        return ""
    rows = "".join(f"<tr><td>{html.escape(fault)}</td>" + "".join(f"<td class='n'>{int(s[t])}</td>"
                                                                for t in ("ok", "fail", "info"))
                   + f"<td>{html.escape(', '.join(s['nodes']) or '-')}</td></tr>"
                   for fault, s in faults["by_fault"].items())
    missing = (f"<p class='unknown'>Named but never started: {html.escape(', '.join(faults['not_run']))}; "
               "the run says nothing about them.</p>" if faults.get("not_run") else "")
    return ("<h2>Faults</h2><p>How each fault's starts ended, and the nodes they hit.</p>"
            "<table><tr><th>fault</th><th>ok</th><th>fail</th><th>info</th><th>nodes hit</th></tr>"
            + rows + "</table>" + missing)


def _availability_of(results: dict[str, Any]) -> dict[str, Any]:
    availability = results.get("availability")
    return availability if isinstance(availability, dict) else {}


def _availability(availability: dict[str, Any]) -> str:
    """Per fault kind the windows' and recoveries' p50 and max, then every fault's partitions."""
    if not availability.get("faults"):
        return ""
    limit = availability.get("max_unavailable_s")
    claim = (f"Availability claim: at most {limit:g} s on faults the configuration should survive (marked *)."
             if limit is not None else "No availability claim (--max-unavailable): measured, not judged.")
    kinds = "".join(f"<tr><td>{html.escape(kind)}</td>" + "".join(f"<td class='n'>{_number(c)}</td>" for c in (
        s["faults"], s["window_s"]["p50"], s["window_s"]["max"], s["recovery_s"]["p50"], s["recovery_s"]["max"],
        s["never_recovered"], s["no_sends"])) + "</tr>" for kind, s in availability["by_fault"].items())
    faults = "".join(
        f"<tr><td>{html.escape(fault['label'])}{' *' if fault['survivable'] else ''}</td>"
        f"<td class='n'>{_number(fault['start_s'])}</td><td class='n'>{_number(fault['end_s'])}</td>"
        f"<td class='n'>{html.escape(p)}</td><td>{html.escape(row['outcome'])}</td>"
        f"<td class='n'>{_number(row['window_s'])}</td><td>{html.escape(row['recovery'])}</td>"
        f"<td class='n'>{_number(row['recovery_s'])}</td></tr>"
        for fault in availability["faults"] for p, row in fault["partitions"].items())
    return (f"<h2>Availability</h2><p>How long each partition went without an acknowledged "
            f"{html.escape(str(availability.get('writes')))} after each fault started (its unavailability window), "
            f"and how soon after the fault ended one came (recovery), in seconds (docs/chaos.md). "
            f"{html.escape(claim)}</p>"
            "<table><tr><th>fault</th><th>faults</th><th>window p50</th><th>window max</th><th>recovery p50</th>"
            f"<th>recovery max</th><th>never recovered</th><th>no sends</th></tr>{kinds}</table>"
            "<table><tr><th>fault</th><th>start s</th><th>end s</th><th>partition</th><th>outcome</th>"
            f"<th>window s</th><th>recovery</th><th>recovery s</th></tr>{faults}</table>")


def _disk(disk: Any) -> str:
    """Files the corrupt-file fault damaged, and per power loss what each node's filesystem threw away."""
    if not isinstance(disk, dict):
        return ""
    parts = ["<h2>Disk faults</h2>"]
    if disk.get("corrupted"):
        rows = "".join(f"<tr><td>{html.escape(str(c.get('node')))}</td><td><code>{html.escape(str(c.get('path')))}"
                       f"</code></td><td>{html.escape(str(c.get('kind', '')))}</td><td>{html.escape(str(c.get('how')))}"
                       f"</td><td>{html.escape(_damage(c))}</td><td class='n'>#{c.get('op')}</td>"
                       f"<td class='n'>{c.get('time_s')}</td></tr>" for c in disk["corrupted"])
        parts.append("<h3>Corrupted files</h3><table><tr><th>node</th><th>path</th><th>kind</th><th>how</th>"
                     f"<th>where</th><th>op</th><th>at s</th></tr>{rows}</table>")
    for loss in disk.get("power_losses", []):
        parts.append(f"<h3>{html.escape(str(loss.get('fault')))}: op #{loss.get('op')} at {loss.get('time_s')} s"
                     "</h3><table><tr><th>node</th><th>files that lost data</th><th>lost bytes</th><th>torn bytes</th>"
                     "<th>undone directory entries</th></tr>" +
                     "".join(_node_loss(node, lost) for node, lost in loss.get("nodes", {}).items()) + "</table>")
    return "\n".join(parts) if len(parts) > 1 else ""


def _damage(corrupted: dict[str, Any]) -> str:
    if "offsets" in corrupted:
        return f"bits flipped at offsets {', '.join(map(str, corrupted['offsets']))}"
    if "bytes" in corrupted:
        return f"{corrupted['bytes']} bytes cut off the end"
    return ""


def _node_loss(node: str, lost: dict[str, Any]) -> str:
    """A row: counts, with the files and the undone directory entries listed under each count."""
    files = [f"<code>{html.escape(str(f.get('path')))}</code>: kept {f.get('kept_bytes', 0)}, lost "
             f"{f.get('lost_bytes', 0)}, torn {f.get('torn_bytes', 0)} bytes" for f in lost["files"]]
    entries = [f"{html.escape(str(e.get('what')))} <code>{html.escape(str(e.get('path')))}</code>"
               for e in lost["entries"]]
    cells = [f"{lost['files_changed']}{_listed(files)}", lost["lost_bytes"], lost["torn_bytes"],
             f"{len(entries)}{_listed(entries)}"]
    return f"<tr><td>{html.escape(node)}</td>" + "".join(f"<td class='n'>{cell}</td>" for cell in cells) + "</tr>"


def _listed(items: list[str]) -> str:
    if not items:
        return ""
    return "<details><summary>which</summary><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul></details>"


def _stats(stats: Any) -> str:
    if not isinstance(stats, dict) or "by_f" not in stats:
        return ""
    rows = []
    for f, s in [*stats["by_f"].items(), ("all client ops", stats["total"])]:
        latency = s["latency_ms"]
        cells = [s["count"], s["ok"], s["fail"], s["info"], _number(s["rate_per_s"]),
                 *(_number(latency[q]) for q in ("p50", "p95", "p99", "max"))]
        rows.append(f"<tr><td>{html.escape(f)}</td>" + "".join(f"<td class='n'>{c}</td>" for c in cells) + "</tr>")
    nemesis = ", ".join(f"{f}: {sum(n.values())}" for f, n in stats.get("nemesis", {}).items())
    return ("<h2>Operations</h2>"
            f"<p>{_number(stats['duration_s'])} s of history. Nemesis ops: {html.escape(nemesis or 'none')}.</p>"
            "<table><tr><th>f</th><th>ops</th><th>ok</th><th>fail</th><th>info</th><th>ops/s</th>"
            "<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>" + "".join(rows) + "</table>")


def _number(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)


def _plots(run_dir: Path, results: dict[str, Any]) -> str:
    named = [f for f in PERF_FILES if (run_dir / f).is_file()]
    others = sorted(p.name for p in run_dir.glob("*.png") if p.name not in named)
    images = []
    for file in [*named, *others]:
        data = base64.b64encode((run_dir / file).read_bytes()).decode("ascii")
        images.append(f"<p><a href='{html.escape(file)}'>{html.escape(file)}</a><br>"
                      f"<img alt='{html.escape(file)}' src='data:image/png;base64,{data}'></p>")
    if not images:
        return ""
    return ("<h2>Plots</h2><p>Shaded bands are fault intervals (from start to stop of each fault); clock.png, when "
            "clock faults ran, is each node's wall-clock offset from true time.</p>" + "".join(images))


def _files(run_dir: Path) -> str:
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
    logs = [(f, "") for f in rest if not f.endswith(".html")]
    return "".join(_link_list(title, links) for title, links in (
        ("Files", known), ("Visualizations", visualizations), ("Logs and other files", logs)))


def _link_list(title: str, links: list[tuple[str, str]]) -> str:
    if not links:
        return ""
    items = "".join(f"<li><a href='{html.escape(f)}'>{html.escape(f)}</a>{': ' if label else ''}"
                    f"{html.escape(label)}</li>" for f, label in links)
    return f"<h2>{title}</h2><ul>{items}</ul>"


def _errors(results: dict[str, Any]) -> str:
    errors = results.get("errors")
    if not errors:
        return ""
    items = "".join(f"<li><b>{html.escape(n)}</b>: <code>{html.escape(e)}</code></li>" for n, e in errors.items())
    return f"<h2>Checker errors</h2><ul>{items}</ul>"


def _key_values(data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(json.dumps(v))}</code></td></tr>"
                   for k, v in data.items())
    return f"<table>{rows}</table>"
