"""The `logquake` command. Each area contributes a click group; only working commands are listed."""

from __future__ import annotations

import click

from cluster.broker.log.dump import dump
from cluster.broker.main import broker_command
from cluster.deploy.cleanup import cleanup_command
from cluster.deploy.image import image_command
from cluster.deploy.status import status_command
from cluster.deploy.up import up_command
from cluster.keeper.main import keeper_command
from cluster.proxy.main import proxy_command
from logquake import __version__
from logquake.commands import check_command, run_command
from logquake.compare.command import compare_command
from logquake.serve.command import serve_command
from logquake.verify.command import verify_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logquake")
def main() -> None:
    """Fault injection for Kafka-like replicated logs."""


@main.group()
def log() -> None:
    """Inspect partition logs on disk."""


log.add_command(dump)


main.add_command(broker_command)
main.add_command(keeper_command)
main.add_command(proxy_command)
main.add_command(run_command)
main.add_command(check_command)
main.add_command(verify_command)
main.add_command(compare_command)
main.add_command(serve_command)
main.add_command(image_command, "image")


@main.group()
def cluster() -> None:
    """Bring a cluster up, look at it, and take it (or what runs left) down."""


cluster.add_command(up_command, "up")
cluster.add_command(status_command)
cluster.add_command(cleanup_command, "down")
