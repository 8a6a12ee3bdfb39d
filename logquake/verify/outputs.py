"""What a verification shows: the terminal matrix, verify.json, verify.html and JUnit cases.

Rows are configurations, columns the faults (the matrix's column axis); a cell reads as its
outcome's symbol and how many of its runs had that outcome, e.g. "~ 1/1". verify.html links each
cell to its runs' report.html through the runs/ links of the verification's directory.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from logquake import store
from logquake.junit import JUnitCase
from logquake.progress import table
from logquake.verify.execute import CellRecord, Verification
from logquake.verify.outcome import BROKEN, HOLDS, MEANINGS, OUTCOMES, SHOWN, SYMBOLS, UNDECIDED, UNSHOWN

VERIFY_JSON = "verify.json"
VERIFY_HTML = "verify.html"
MATRIX_TEXT = "matrix.txt"
_COLOURS = {HOLDS: "#dff0d8", BROKEN: "#f2dede", SHOWN: "#fcf8e3", UNSHOWN: "#eef3fb", UNDECIDED: "#eeeeee"}


def cell_text(record: CellRecord) -> str:
    """The outcome's symbol and how many runs of the cell had it ("-" for a cell that did not run)."""
    if not record.runs:
        return "-"
    outcome = record.outcome
    agreeing = sum(run.outcome.outcome == outcome for run in record.runs)
    return f"{SYMBOLS[outcome]} {agreeing}/{len(record.cell.specs)}"


def terminal_matrix(verification: Verification) -> str:
    """The matrix as the terminal shows it, with the legend and the counts of cells per outcome."""
    by_position = {(record.cell.row, record.cell.column): record for record in verification.cells}
    matrix = verification.matrix
    columns = matrix.column_labels
    rows = [[row or "-", *(cell_text(by_position[(row, column)]) if (row, column) in by_position else ""
                           for column in columns)] for row in matrix.rows]
    counts = Counter(record.outcome for record in verification.cells if record.runs)
    title = f"matrix {matrix.name}: {matrix.description}" if matrix.description else f"matrix {matrix.name}"
    lines = [title, "",
             table(["configuration", *columns], rows), "",
             *(f"  {SYMBOLS[outcome]} {outcome}: {MEANINGS[outcome]}" for outcome in OUTCOMES),
             "  - not run", "",
             "cells: " + ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES if counts[outcome])]
    not_run = sum(not record.runs for record in verification.cells)
    if not_run:
        lines[-1] += f", {not_run} not run"
    if verification.interrupted:
        lines.append("interrupted: the matrix stopped after the runs above")
    return "\n".join(lines)


def to_json(verification: Verification) -> dict[str, Any]:
    matrix = verification.matrix
    return {
        "matrix": matrix.name, "description": matrix.description, "started": verification.started,
        "interrupted": verification.interrupted, "fail_on_unshown": verification.fail_on_unshown,
        "exit_code": verification.exit_code, "columns": matrix.columns, "rows": matrix.rows,
        "column_labels": matrix.column_labels,
        "axes": {axis.name: [level.label for level in axis.levels] for axis in matrix.axes},
        "counts": dict(Counter(record.outcome for record in verification.cells)),
        "cells": [{"name": record.cell.name, "row": record.cell.row, "column": record.cell.column,
                   "labels": record.cell.labels, "outcome": record.outcome, "ran": len(record.runs),
                   "seeds": [spec.seed for spec in record.cell.specs], "time_s": round(record.time_s, 3),
                   "runs": [run.to_dict() for run in record.runs]} for record in verification.cells],
    }


def junit_cases(verification: Verification) -> list[JUnitCase]:
    """One case per cell: a broken claim (or, with --fail-on-unshown, a weakness not shown) fails, an undecided
    cell is an error, a cell that never ran is skipped."""
    classname = f"logquake.verify.{verification.matrix.name}"
    cases = []
    for record in verification.cells:
        outcome = record.outcome
        details = "\n".join(_run_lines(record))
        if not record.runs:
            cases.append(JUnitCase(record.cell.name, classname, 0.0, "skipped", "not run: the matrix was interrupted"))
        elif outcome == BROKEN or (outcome == UNSHOWN and verification.fail_on_unshown):
            cases.append(JUnitCase(record.cell.name, classname, record.time_s, "failure",
                                   f"{outcome}: {_first_reason(record, outcome)}", details))
        elif outcome == UNDECIDED:
            cases.append(JUnitCase(record.cell.name, classname, record.time_s, "error",
                                   f"{outcome}: {_first_reason(record, outcome)}", details))
        else:
            cases.append(JUnitCase(record.cell.name, classname, record.time_s, "passed"))
    return cases


def render_html(verification: Verification) -> str:
    matrix = verification.matrix
    by_position = {(record.cell.row, record.cell.column): record for record in verification.cells}
    head = "".join(f"<th>{html.escape(column)}</th>" for column in matrix.column_labels)
    body = []
    for row in matrix.rows:
        cells = "".join(_html_cell(by_position.get((row, column))) for column in matrix.column_labels)
        body.append(f"<tr><th>{html.escape(row or '-')}</th>{cells}</tr>")
    legend = "".join(f"<li>{html.escape(SYMBOLS[o])} <b>{html.escape(o)}</b>: {html.escape(MEANINGS[o])}</li>"
                     for o in OUTCOMES)
    title = f"verify {html.escape(matrix.name)}"
    return "\n".join([
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">', f"<title>{title}</title>",
        "<style>body{font:14px/1.4 sans-serif;margin:1.5em} table{border-collapse:collapse}"
        " td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top} th{background:#f4f4f4;text-align:left}"
        " .runs{font-size:12px}</style></head><body>",
        f"<h1>{title}</h1>", f"<p>{html.escape(matrix.description)}</p>",
        f"<p>started {html.escape(verification.started)}; exit status {verification.exit_code}"
        f"{'; interrupted' if verification.interrupted else ''}</p>",
        f"<table><tr><th>configuration</th>{head}</tr>", *body, "</table>", f"<ul>{legend}</ul>",
        '<p><a href="verify.json">verify.json</a></p>', "</body></html>"])


def write_outputs(verification: Verification) -> None:
    """verify.json, verify.html and the terminal matrix in the verification's directory, each whole or not at all."""
    directory = verification.directory
    store.write_json(directory / VERIFY_JSON, to_json(verification))
    for name, text in ((VERIFY_HTML, render_html(verification)), (MATRIX_TEXT, terminal_matrix(verification))):
        temporary = directory / f".{name}.tmp"
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(directory / name)


def _html_cell(record: CellRecord | None) -> str:
    if record is None:
        return "<td></td>"
    if not record.runs:
        return '<td title="not run">-</td>'
    runs = "<br>".join(
        (f'<a href="{html.escape(run.link)}/{store.REPORT}">seed {run.seed}</a>' if run.link else f"seed {run.seed}")
        + f": {html.escape(run.outcome.outcome)}" + _counts(run.outcome.forbidden, run.outcome.allowed)
        for run in record.runs)
    reasons = "; ".join(reason for run in record.runs for reason in run.outcome.reasons[:3])
    return (f'<td style="background:{_COLOURS[record.outcome]}" title="{html.escape(reasons)}">'
            f"<b>{html.escape(cell_text(record))}</b> {html.escape(record.outcome)}"
            f'<div class="runs">{runs}</div></td>')


def _counts(forbidden: dict[str, int], allowed: dict[str, int]) -> str:
    found = [f"{n} {name} forbidden" for name, n in forbidden.items()]
    found += [f"{n} {name} allowed" for name, n in allowed.items()]
    return f" ({html.escape(', '.join(found))})" if found else ""


def _first_reason(record: CellRecord, outcome: str) -> str:
    if outcome == UNSHOWN:
        possible = dict.fromkeys(name for run in record.runs for name in run.outcome.possible)
        return f"the configuration allows {', '.join(possible)}, and no run found any"
    for run in record.runs:
        if run.outcome.outcome == outcome and run.outcome.reasons:
            return run.outcome.reasons[0]
    return "no reason given"


def _run_lines(record: CellRecord) -> list[str]:
    lines = []
    for run in record.runs:
        report = f"{run.run_dir / store.REPORT}" if run.run_dir else "no run directory"
        lines.append(f"seed {run.seed}: {run.outcome.outcome} ({report})")
        lines += [f"  {reason}" for reason in run.outcome.reasons]
    return lines
