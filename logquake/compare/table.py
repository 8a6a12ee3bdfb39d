"""The comparison as a table whose rows are the claims and whose columns are the systems: text and Markdown.

Claims a fault decides (the verdict, durability, unavailability, and throughput and latency in the
same runs outside the faults) get a row per fault; duplicates, ordering and replay one row over all runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from logquake.compare.measure import Measured
from logquake.compare.plan import LABELS

Show = Callable[[Measured], str]
Summary = Callable[[list[Measured]], str]


def _number(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


PER_FAULT: tuple[tuple[str, Show], ...] = (
    ("verdict", lambda run: run.verdict),
    ("acknowledged writes", lambda run: f"{run.acknowledged:,}"),
    ("durability: acknowledged writes lost", lambda run: f"{run.lost:,}"),
    ("unavailability: longest write gap after the fault began", lambda run: _number(run.unavailable_max_s, " s", 2)
     + (f" ({run.never_recovered} never recovered)" if run.never_recovered else "")),
    ("throughput outside faults, acked writes/s", lambda run: _number(run.throughput_per_s, "", 1)),
    ("write latency outside faults, p50 / p99",
     lambda run: f"{_number(run.latency_p50_ms, ' ms', 1)} / {_number(run.latency_p99_ms, ' ms', 1)}"),
)


def _total(runs: list[Measured], value: Callable[[Measured], int]) -> str:
    return f"{sum(value(run) for run in runs):,}" if runs else "-"


def _replay(runs: list[Measured]) -> str:
    shares = [100 * run.replayed for run in runs if run.replayed is not None]
    if not shares:
        return "-"
    low, high = min(shares), max(shares)
    return f"{low:.1f}%" if low == high else f"{low:.1f}% to {high:.1f}%"


OVERALL: tuple[tuple[str, Summary], ...] = (
    ("duplicates (read or delivered twice), all runs", lambda runs: _total(runs, lambda run: run.duplicates)),
    ("ordering anomalies, all runs", lambda runs: _total(runs, lambda run: run.ordering)),
    ("replay: consumed values read again from the start", _replay),
)


def cells(measured: Sequence[Measured]) -> tuple[list[str], list[list[str]]]:
    """The header (claim, then one column per system) and the rows."""
    systems = list(dict.fromkeys(run.system for run in measured))
    faults = list(dict.fromkeys(run.fault for run in measured))
    runs = {(run.system, run.fault): run for run in measured}
    header = ["claim", *(LABELS.get(system, system) for system in systems)]
    rows = [[f"{name}, {fault}", *(show(runs[system, fault]) if (system, fault) in runs else "-" for system in systems)]
            for name, show in PER_FAULT for fault in faults]
    rows += [[name, *(summary([run for run in measured if run.system == system]) for system in systems)]
             for name, summary in OVERALL]
    return header, rows


def as_text(measured: Sequence[Measured]) -> str:
    header, rows = cells(measured)
    table = [header, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def as_markdown(measured: Sequence[Measured]) -> str:
    header, rows = cells(measured)
    escape = str.maketrans({"|": "\\|"})
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(cell.translate(escape) for cell in row)} |" for row in rows]
    return "\n".join(lines)
