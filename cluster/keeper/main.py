"""Running one keeper server as a process: `logquake keeper --config zoo.cfg`.

SIGTERM or Ctrl-C stops it gracefully. Sessions are not closed: they live in the
replicated state, so clients keep them across a restart (as with ZooKeeper),
and the restarted server recovers its data from dataDir.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from cluster.keeper.config import KeeperConfig
from cluster.keeper.server.disk_errors import DiskFailure, StorageCorrupt
from cluster.keeper.server.service import KeeperService
from cluster.properties import PropertiesError

_log = logging.getLogger(__name__)


async def serve(config: KeeperConfig) -> int:
    """Runs until a signal (exit status 0) or a failed write or fsync of the raft log (exit status 1,
    as soon as the failure is seen: the write's clients lose their connections, never hear success)."""
    service = KeeperService(config)
    await service.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    host, port = service.client_address
    print(f"keeper {config.my_id} serving on {host}:{port} with data in {config.data_dir}", flush=True)
    stopped = asyncio.create_task(stop.wait())
    failed = asyncio.create_task(service.failed.wait())
    await asyncio.wait([stopped, failed], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    failed.cancel()
    if service.failed.is_set():
        _log.critical("exiting with status 1: closing client connections, acknowledging nothing more")
    else:
        _log.info("shutting down: closing client connections, finishing the raft log write in progress")
    await service.stop()
    return 1 if service.failed.is_set() else 0


@click.command("keeper")
@click.option("--config", "config_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A ZooKeeper zoo.cfg file.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def keeper_command(config_file: Path, log_level: str) -> None:
    """Run a ZooKeeper-compatible keeper server (one of an ensemble, or standalone)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = KeeperConfig.load(config_file)
    except (PropertiesError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    try:
        status = asyncio.run(serve(config))
    except (StorageCorrupt, DiskFailure) as error:
        raise click.ClickException(f"refusing to start: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot serve on {config.client_host}:{config.client_port}: {error}") from None
    raise SystemExit(status)


if __name__ == "__main__":
    keeper_command()
