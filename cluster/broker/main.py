"""Running one broker as a process: configuration, startup, graceful shutdown on SIGTERM or SIGINT
(for a cluster member: controlled shutdown first, so its leaderships move before it goes)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from cluster import properties
from cluster.broker.broker import Broker
from cluster.broker.config import BrokerConfig
from cluster.broker.server import BrokerServer

_log = logging.getLogger(__name__)


def load_config(config_file: Path | None, overrides: tuple[str, ...]) -> BrokerConfig:
    """server.properties (if given) with --override key=value applied on top, as kafka-server-start does."""
    values = properties.load(config_file) if config_file else {}
    for override in overrides:
        key, value = properties.parse_override(override)
        values[key] = value
    return BrokerConfig.from_properties(values)


async def serve(config: BrokerConfig) -> None:
    """Serves until SIGTERM/SIGINT; a cluster member first hands its leaderships over (controlled shutdown)."""
    broker = Broker(config)
    broker.load()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = BrokerServer(broker)
    try:
        await broker.start()
        await server.start()
        broker.start_housekeeping()
        print(f"broker {config.broker_id} serving on {_addresses(server)} with data in {config.log_dir}", flush=True)
        await stop.wait()
        _log.info("shutting down: moving leaderships away, closing connections, flushing and closing segments")
        await broker.leave()
    finally:
        await server.close()
        await broker.close()


def _addresses(server: BrokerServer) -> str:
    """host:port of a single listener (as before listeners had names), NAME host:port of each of several."""
    addresses = server.addresses
    if len(addresses) == 1:
        return "{}:{}".format(*server.address)
    return ", ".join(f"{name} {host}:{port}" for name, (host, port) in addresses.items())


@click.command("broker")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Kafka server.properties file.")
@click.option("--override", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Set a property, overriding the file (repeatable).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def broker_command(config_file: Path | None, overrides: tuple[str, ...], log_level: str) -> None:
    """Run a Kafka-compatible broker (127.0.0.1:9092, data in ./data by default).

    With zookeeper.connect set (e.g. --override zookeeper.connect=127.0.0.1:2181) it joins a
    replicated cluster through the keeper; give each broker its own broker.id and listeners
    (several named ones too, e.g. CLIENT and REPLICATION with inter.broker.listener.name).
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(config_file, overrides)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        asyncio.run(serve(config))
    except OSError as error:
        raise click.ClickException(str(error.strerror or error)) from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
