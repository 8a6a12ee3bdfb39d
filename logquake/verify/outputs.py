"""What a verification shows: the terminal matrix, verify.json, verify.html and JUnit cases.

Rows are configurations, columns the faults (the matrix's column axis); a cell reads as its
outcome's symbol and how many of its runs had that outcome, e.g. "~ 1/1". verify.html (the template
matrix_table.html, which `logquake serve` draws too) links each cell to its runs' report.html through
the runs/ links of the verification's directory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from logquake import store
from logquake.junit import JUnitCase
from logquake.progress import table
from logquake.templating import render
from logquake.verify.execute import CellRecord, Verification
from logquake.verify.outcome import BROKEN, MEANINGS, OUTCOMES, SYMBOLS, UNDECIDED, UNSHOWN

VERIFY_JSON = "verify.json"
VERIFY_HTML = "verify.html"
MATRIX_TEXT = "matrix.txt"


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
    """verify.html: the matrix, each run linked to its report.html through the verification's runs/ links."""
    data = to_json(verification)
    return render("verify.html", data=data, rows=matrix_rows(data), legend=LEGEND,
                  run_href=lambda run: f"{run['link']}/{store.REPORT}" if run.get("link") else None)


LEGEND = [(SYMBOLS[outcome], outcome, MEANINGS[outcome]) for outcome in OUTCOMES]


def matrix_rows(data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any] | None]]]:
    """verify.json's matrix as pages draw it: per configuration its cells in column order (None where the matrix
    has none), each with its outcome, text ("~ 1/1"), its runs' first reasons, and each run with its anomaly counts."""
    cells = {(cell["row"], cell["column"]): cell for cell in data.get("cells", [])}
    return [(row, [_shown(cells.get((row, column))) for column in data.get("column_labels", [])])
            for row in data.get("rows", [])]


def _shown(cell: dict[str, Any] | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    runs = cell.get("runs", [])
    agreeing = sum(run.get("outcome") == cell["outcome"] for run in runs)
    return {"outcome": cell["outcome"], "text": f"{SYMBOLS.get(cell['outcome'], '?')} {agreeing}/{len(cell['seeds'])}",
            "reasons": "; ".join(str(reason) for run in runs for reason in run.get("reasons", [])[:3]),
            "runs": [(run, _counts(run.get("forbidden", {}), run.get("allowed", {}))) for run in runs]}


def write_outputs(verification: Verification) -> None:
    """verify.json, verify.html and the terminal matrix in the verification's directory, each whole or not at all."""
    directory = verification.directory
    store.write_json(directory / VERIFY_JSON, to_json(verification))
    for name, text in ((VERIFY_HTML, render_html(verification)), (MATRIX_TEXT, terminal_matrix(verification))):
        temporary = directory / f".{name}.tmp"
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(directory / name)


def _counts(forbidden: dict[str, int], allowed: dict[str, int]) -> str:
    found = [f"{n} {name} forbidden" for name, n in forbidden.items()]
    return ", ".join([*found, *(f"{n} {name} allowed" for name, n in allowed.items())])


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
