"""`logquake compare`: per fault, one run of our Kafka-compatible cluster and one of RabbitMQ under the same fault
schedule, measured alike (measure.py) and written as one table: on the terminal, and in store/compare/<timestamp>/
as compare.md, compare.txt and compare.json (rewritten after every run, so an interrupted comparison keeps what ran).

Exit status: 0 when every run completed (whatever it found: the table reports it), 2 when a run failed or was
interrupted, or on bad arguments.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import click

import nemesis
from cluster.deploy.deployment import BACKENDS
from harness.history import load_history, pair
from harness.spec import SpecError, TestSpec
from logquake import store
from logquake.compare.measure import Measured, measure
from logquake.compare.plan import FAULTS, Schedule, plan
from logquake.compare.table import as_markdown, as_text
from logquake.registry import WORKLOADS, Registry
from logquake.runner import RunOutcome, run

COMPARE = "compare"
RunSpec = Callable[[TestSpec, Path], RunOutcome]


def compare(schedule: Schedule, store_root: Path, run_spec: RunSpec, registry: Registry = WORKLOADS,
            say: Callable[[str], None] = print) -> tuple[list[Measured], Path, int]:
    """Runs the plan in order; the measured runs, the comparison's directory and its exit status."""
    planned = plan(schedule, registry)
    directory = store.new_run_dir(store_root, COMPARE, store_latest=False)
    measured: list[Measured] = []
    code = 0
    for number, item in enumerate(planned, 1):
        say(f"[{number}/{len(planned)}] {item.system} under {item.fault}")
        outcome = run_spec(item.spec, store_root)
        if outcome.results.get("interrupted") or not (outcome.run_dir / store.HISTORY).exists():
            say(f"{item.system} under {item.fault}: {outcome.results.get('problem', 'no history')}; stopping")
            code = 2
            break
        test = store.read_json(outcome.run_dir / store.TEST)
        ops = pair(load_history(outcome.run_dir / store.HISTORY))
        measured.append(measure(item.system, item.fault, test, outcome.results, ops, str(outcome.run_dir)))
        write_outputs(directory, schedule, measured)
    return measured, directory, code


def write_outputs(directory: Path, schedule: Schedule, measured: list[Measured]) -> None:
    when = f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {machine()}"
    text = as_text(measured)
    (directory / "compare.txt").write_text(f"{text}\n")
    (directory / "compare.md").write_text(f"Measured {when}: {describe(schedule)}.\n\n{as_markdown(measured)}\n")
    store.write_json(directory / "compare.json", {"when": when, "schedule": asdict(schedule),
                                                  "runs": [run.to_dict() for run in measured]})


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()}-core {platform.machine()}, load average {load}"


def describe(schedule: Schedule) -> str:
    return (f"faults {', '.join(schedule.faults)} of a minority of 3 nodes, {schedule.nemesis_interval:g} s on and off, "
            f"{schedule.time_limit:g} s of workload at {schedule.rate:g} ops/s offered by {schedule.concurrency} "
            f"workers, seed {schedule.seed}, backend {schedule.backend}")


def _faults(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in nemesis.FAULTS]
    if unknown or not names:
        raise click.BadParameter(f"unknown fault(s) {', '.join(unknown) or '(none given)'}; choose from "
                                 f"{', '.join(nemesis.FAULTS)}")
    return names


@click.command(COMPARE)
@click.option("--faults", default=",".join(FAULTS), show_default=True, callback=_faults,
              help="Comma-separated faults: one run of each system per fault.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=30.0, show_default=True)
@click.option("--nemesis-interval", type=click.FloatRange(min=1), default=6.0, show_default=True)
@click.option("--rate", type=click.FloatRange(min=1), default=100.0, show_default=True,
              help="Client ops per second offered to each system, in total.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True)
@click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path), default=Path("store"),
              show_default=True)
@click.option("--dry-run", is_flag=True, help="List the runs; run nothing.")
def compare_command(faults: tuple[str, ...], time_limit: float, nemesis_interval: float, rate: float,
                    concurrency: int, seed: int, backend: str, store_root: Path, dry_run: bool) -> None:
    """Measure our Kafka-compatible cluster against RabbitMQ under the same faults, as one table."""
    schedule = Schedule(faults, time_limit, nemesis_interval, rate, concurrency, seed, backend)
    try:
        planned = plan(schedule, WORKLOADS)
    except SpecError as error:
        raise click.UsageError(str(error)) from None
    missing = nemesis.unavailable(faults)
    if missing:
        raise click.UsageError(missing)
    if dry_run:
        for item in planned:
            click.echo(f"{item.spec.name}: {item.system}, {item.fault}, seed {item.spec.seed}")
        return
    measured, directory, code = compare(schedule, store_root, lambda spec, root: run(spec, root),
                                        say=lambda line: click.echo(line, err=True))
    click.echo(f"{describe(schedule)}\n{as_text(measured)}")
    click.echo(f"table: {directory / 'compare.md'}")
    sys.exit(code)
