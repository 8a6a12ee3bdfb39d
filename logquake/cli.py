"""The `logquake` command. Each area contributes a click group; only working commands are listed."""

from __future__ import annotations

import click

from cluster.broker.log.dump import dump
from cluster.broker.main import broker_command
from logquake import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logquake")
def main() -> None:
    """Fault injection for Kafka-like replicated logs."""


@main.group()
def log() -> None:
    """Inspect partition logs on disk."""


log.add_command(dump)


main.add_command(broker_command)
