"""`logquake proxy` / `python -m cluster.proxy`: the Toxiproxy-compatible server as a process."""

from __future__ import annotations

import asyncio
import logging

import click

from cluster.proxy.addresses import split_address
from cluster.proxy.server import DEFAULT_API_ADDRESS, serve


def _address(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, int]:
    try:
        return split_address(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command("proxy")
@click.option("--listen", default=DEFAULT_API_ADDRESS, show_default=True, callback=_address,
              metavar="HOST:PORT", help="Where the HTTP API listens (port 0: any free port, printed at start).")
@click.option("--exit-with", type=int, default=None, metavar="PID",
              help="Exit when this process is gone (a harness's proxy server must not outlive it).")
@click.option("--log-level", default="WARNING", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def proxy_command(listen: tuple[str, int], exit_with: int | None, log_level: str) -> None:
    """Run a Toxiproxy-compatible TCP proxy server (HTTP API as Toxiproxy 2.x's; docs/proxy.md)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port = listen
    try:
        asyncio.run(serve(host, port, exit_with))
    except OSError as error:
        raise click.ClickException(f"cannot serve the API on {host}:{port}: {error}") from None
