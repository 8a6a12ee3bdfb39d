"""`logquake serve`: the store's web interface on 127.0.0.1 unless told otherwise.

Loopback by default because the pages hold everything the runs logged (node logs, configurations,
paths) and there is no authentication: serving it to a network is a choice made with --host.
"""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from logquake.serve.app import create_app


@click.command("serve")
@click.option("--store", "store_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("store"), show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback shows the store to the network, unauthenticated.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
def serve_command(store_root: Path, host: str, port: int) -> None:
    """Browse the store's runs, verifications and live runs in a web browser (read-only)."""
    click.echo(f"serving {store_root.resolve()} on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(create_app(store_root), host=host, port=port, log_level="warning")
