"""`logquake run` and `logquake check`: a chaos test from the command line, and a re-check of a stored one.

Both commands are made from a registry: its workloads are `--workload`'s choices and their
declared options are the run command's workload options. Exit codes follow Jepsen's: 0 valid,
1 invalid, 2 the run failed, was interrupted, or the checkers could not decide.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from cluster.deploy.deployment import BACKENDS
from cluster.deploy.node import KEEPER_KINDS, SYSTEMS
from cluster.deploy.rabbitmq import NET_TICKTIME_HELP, NET_TICKTIME_S, PARTITION_HANDLING
from harness.spec import Option, SpecError
from logquake import store
from logquake.junit import write_junit
from logquake.run_junit import run_case
from logquake.registry import WORKLOADS, Registry
from logquake.runner import check_run, exit_code, run, summary, verdict_summary, where
import nemesis
from nemesis import FAULTS


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


def _run_options(workloads: Registry) -> list[click.Option]:
    """The run's own options; every workload's come after them, then --store."""
    summaries = "; ".join(workload.summary for workload in workloads)
    return [
        click.Option(["--name"], default=None, help="Test name (the store directory); default: "
                     "workload-nemesis-variant, e.g. queue-kill-acksall or register-kill-keeper."),
        click.Option(["--workload"], type=click.Choice(workloads.names), default=None,
                     help=f"{summaries} (default: queue, or amqp for --system rabbitmq)."),
        click.Option(["--system"], type=click.Choice(SYSTEMS), default="logquake", show_default=True,
                     help="The system under test: our Kafka-compatible cluster, or RabbitMQ 3.10 (Debian's "
                          "rabbitmq-server; its nodes are the brokers, b1..bN)."),
        click.Option(["--partition-handling"], type=click.Choice(PARTITION_HANDLING), default="ignore",
                     show_default=True, help="RabbitMQ's cluster_partition_handling (--system rabbitmq)."),
        click.Option(["--net-ticktime"], type=int, default=NET_TICKTIME_S, show_default=True,
                     help=NET_TICKTIME_HELP),
        click.Option(["--nemesis"], default="none", callback=_faults, show_default=True,
                     help=f"Comma-separated faults: {', '.join(FAULTS)} (or none)."),
        click.Option(["--nemesis-interval"], type=float, default=10.0, show_default=True,
                     help="Seconds between starting and stopping a fault."),
        click.Option(["--nemesis-targets"], default="", callback=_names,
                     help="Comma-separated targets the faults are aimed at, e.g. partition-leader, one,majority "
                          "or a node's name such as b2 or k1 (default: every target the workload offers); "
                          "partition alone also takes shapes "
                          "(majorities-ring, bridge, minority-third, primaries) and grudges DROPPERS:SENDERS[;...] "
                          "with '+'-joined nodes, e.g. 'partition-leader:all-keepers' (docs/partitions.md)."),
        click.Option(["--nemesis-option", "nemesis_options"], multiple=True, callback=_override,
                     metavar="KEY=VALUE", help="A fault's option, e.g. fsync-delay-ms=100 for slow-disk "
                                               "(repeatable; docs/chaos.md lists them)."),
        click.Option(["--brokers"], type=int, default=3, show_default=True),
        click.Option(["--keepers"], type=int, default=None, help="Keeper nodes (default: 3, or 0 for --system "
                                                                     "rabbitmq, which has none)."),
        click.Option(["--broker-override", "broker_overrides"], multiple=True, callback=_override,
                     metavar="KEY=VALUE", help="A broker property for every broker (repeatable)."),
        click.Option(["--keeper-override", "keeper_overrides"], multiple=True, callback=_override,
                     metavar="KEY=VALUE", help="A zoo.cfg setting for every keeper node, e.g. forceSync=no "
                                               "(repeatable)."),
        click.Option(["--time-limit"], type=float, default=60.0, show_default=True, help="Seconds of workload."),
        click.Option(["--rate"], type=float, default=200.0, show_default=True,
                     help="Client ops per second, in total."),
        click.Option(["--concurrency"], type=int, default=6, show_default=True, help="Worker threads (clients)."),
        click.Option(["--seed"], type=int, default=0, show_default=True),
        click.Option(["--backend"], type=click.Choice(BACKENDS), default="auto", show_default=True),
        click.Option(["--target"], type=click.Choice(KEEPER_KINDS), default="keeper", show_default=True,
                     help="What the keeper nodes run: our keeper, or Apache ZooKeeper 3.8 (Debian's) on the same "
                          "zoo.cfg."),
        click.Option(["--max-unavailable"], type=float, default=None,
                     help="Seconds a partition may go without an acknowledged write under a fault the configuration "
                          "should survive (a minority of brokers killed, paused, restarted or leader-isolated, RF >= 3, "
                          "min ISR <= RF-1); longer is an availability violation: invalid, exit 1 (docs/chaos.md)."),
        click.Option(["--final-time-limit"], type=float, default=60.0, show_default=True,
                     help="Longest the final reads may take."),
    ]


def _workload_option(option: Option) -> click.Option:
    """A declared workload option on the command line: a bool is --x/--no-x, choices are a click.Choice."""
    if option.kind is bool:
        return click.Option([option.name, f"{option.flag}/--no-{option.flag[2:]}"], default=option.default,
                            show_default=True, help=option.help)
    kind: Any = click.Choice(option.choices) if option.choices else option.kind
    return click.Option([option.name, option.flag], type=kind, default=option.default, show_default=True,
                        help=option.help)


def make_run_command(workloads: Registry) -> click.Command:
    def run_test(name: str | None, store_root: Path, junit: Path | None, plots: bool, **values: Any) -> None:
        """Run a chaos test: deploy, drive clients while the nemesis injects faults, heal, read, check."""
        try:
            spec = workloads.spec(name=name, **values)
        except SpecError as error:
            raise click.UsageError(str(error)) from None
        missing = nemesis.unavailable(spec.nemesis)
        if missing:
            raise click.UsageError(missing)
        started = time.monotonic()
        outcome = run(spec, store_root, workloads=workloads, plots=plots)
        click.echo(summary(outcome.results, outcome.run_dir, plots))
        if junit is not None:
            report = outcome.run_dir / store.REPORT
            case = run_case(spec.name, outcome.results, report if report.exists() else outcome.run_dir,
                            time.monotonic() - started)
            click.echo(f"junit: {write_junit(junit, 'logquake run', [case])}")
        sys.exit(outcome.exit_code)

    store_option = click.Option(["--store", "store_root"], type=click.Path(file_okay=False, path_type=Path),
                                default=Path("store"), show_default=True)
    junit_option = click.Option(["--junit"], type=click.Path(dir_okay=False, path_type=Path), default=None,
                                help="Also write the verdict as JUnit XML (one test case) to this file, for CI.")
    params = [*_run_options(workloads), *map(_workload_option, workloads.options), store_option, junit_option,
              _plots_option()]
    return click.Command("run", callback=run_test, params=params, help=run_test.__doc__)


def _plots_option() -> click.Option:
    return click.Option(["--plots/--no-plots", "plots"], default=True, show_default=True,
                        help="Draw the perf and clock plots, the timeline and report.html after results.json "
                             "(--no-plots: the verdict and results.json only, at checker speed).")


def make_check_command(workloads: Registry) -> click.Command:
    def check(run_dir: Path, plots: bool) -> None:
        """Re-check a stored run (or the latest under a store directory); rewrites results.json, then the plots, the
        timeline and report.html. The verdict is printed as soon as results.json is written."""
        try:
            resolved = store.resolve_run_dir(run_dir)
            results = check_run(resolved, workloads=workloads, plots=plots,
                                on_verdict=lambda verdict: click.echo(verdict_summary(verdict)))
        except (store.StoreError, SpecError, ValueError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(where(resolved, plots))
        sys.exit(exit_code(results))

    argument = click.Argument(["run_dir"], type=click.Path(exists=True, file_okay=False, path_type=Path))
    return click.Command("check", callback=check, params=[argument, _plots_option()], help=check.__doc__)


run_command = make_run_command(WORKLOADS)
check_command = make_check_command(WORKLOADS)
