"""`logquake run` and `logquake check`: a chaos test from the command line, and a re-check of a stored one.

Exit codes follow Jepsen's: 0 valid, 1 invalid, 2 the run failed, was interrupted, or the
checkers could not decide.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from logquake import store
from logquake.runner import check_run, exit_code, run, summary
from logquake.spec import ACKS, BACKENDS, CLIENTS, FAULTS, KEEPER_ONLY_WORKLOADS, MODES, TARGETS, WORKLOADS, SpecError
from logquake.spec import TestSpec
from workloads import workload as workload_for


def _split(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip() and name.strip() != "none")


def _names(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    return _split(value)


def _faults(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    names = _split(value)
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise click.BadParameter(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)} or none")
    return names


def _override(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected key=value")
        overrides[key.strip()] = value.strip()
    return overrides


@click.command("run")
@click.option("--name", default=None, help="Test name (the store directory); default: workload-nemesis-acks "
                   "(register: workload-nemesis-target).")
@click.option("--workload", type=click.Choice(WORKLOADS), default="queue", show_default=True,
              help="queue: Kafka sends and polls; register: read/write/cas on znodes (keepers only, --brokers 0); "
                   "log: Kafka appends and reads of committed offsets, checked for linearizability.")
@click.option("--nemesis", default="none", callback=_faults, show_default=True,
              help=f"Comma-separated faults: {', '.join(FAULTS)} (or none).")
@click.option("--nemesis-interval", type=float, default=10.0, show_default=True,
              help="Seconds between starting and stopping a fault.")
@click.option("--nemesis-targets", default="", callback=_names,
              help="Comma-separated targets the faults are aimed at, e.g. partition-leader or one,majority "
                   "(default: every target the workload offers).")
@click.option("--acks", type=click.Choice(ACKS), default="all", show_default=True)
@click.option("--idempotence/--no-idempotence", default=False, show_default=True)
@click.option("--retries", type=int, default=0, show_default=True, help="Producer retries.")
@click.option("--brokers", type=int, default=3, show_default=True)
@click.option("--keepers", type=int, default=3, show_default=True)
@click.option("--replication-factor", type=int, default=3, show_default=True)
@click.option("--min-insync", type=int, default=2, show_default=True, help="min.insync.replicas of the topic.")
@click.option("--partitions", type=int, default=3, show_default=True)
@click.option("--topic", default="queue", show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="assign", show_default=True,
              help="How consumers get partitions.")
@click.option("--broker-override", "broker_overrides", multiple=True, callback=_override, metavar="KEY=VALUE",
              help="A broker property for every broker (repeatable).")
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="Seconds of workload.")
@click.option("--rate", type=float, default=200.0, show_default=True, help="Client ops per second, in total.")
@click.option("--concurrency", type=int, default=6, show_default=True, help="Worker threads (clients).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True)
@click.option("--client", type=click.Choice(CLIENTS), default="confluent-kafka", show_default=True)
@click.option("--target", type=click.Choice(TARGETS), default="keeper", show_default=True,
              help="What the keeper nodes run: our keeper, or Apache ZooKeeper 3.8 (Debian's) on the same zoo.cfg.")
@click.option("--register-keys", type=int, default=3, show_default=True,
              help="register: how many znodes are written at once (fresh ones every 100 ops each).")
@click.option("--register-sync-reads/--no-register-sync-reads", default=False, show_default=True,
              help="register: sync before every read (ZooKeeper's way to a linearizable read).")
@click.option("--final-time-limit", type=float, default=60.0, show_default=True,
              help="Longest the final reads may take.")
@click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path), default=Path("store"),
              show_default=True)
def run_command(name: str | None, store_root: Path, **options: object) -> None:
    """Run a chaos test: deploy, drive clients while the nemesis injects faults, heal, read, check."""
    faults = "-".join(options["nemesis"]) or "none"  # type: ignore[arg-type]
    workload = options["workload"]
    default_name = (f"{workload}-{faults}-{options['target']}" if workload in KEEPER_ONLY_WORKLOADS
                    else f"{workload}-{faults}-acks{options['acks']}")
    try:
        spec = TestSpec(name=name or default_name, **options)  # type: ignore[arg-type]
    except SpecError as error:
        raise click.UsageError(str(error)) from None
    offered = workload_for(spec.workload).fault_targets(spec)
    unknown = [target for target in spec.nemesis_targets if target not in offered]
    if unknown:
        raise click.UsageError(f"--nemesis-targets: {', '.join(unknown)} not offered by the {spec.workload} workload "
                               f"here; choose from {', '.join(offered)}")
    outcome = run(spec, store_root)
    click.echo(summary(outcome.results, outcome.run_dir))
    sys.exit(outcome.exit_code)


@click.command("check")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check_command(run_dir: Path) -> None:
    """Re-check a stored run (or the latest under a store directory); rewrites results.json and report.html."""
    try:
        resolved = store.resolve_run_dir(run_dir)
        results = check_run(resolved)
    except (store.StoreError, SpecError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary(results, resolved))
    sys.exit(exit_code(results))

