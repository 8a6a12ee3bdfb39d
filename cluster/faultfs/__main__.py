"""`python -m cluster.faultfs serve --mountpoint M --state S --owner RUN --harness-pid PID [--entries MODEL]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster.faultfs.daemon import run
from cluster.faultfs.durability import ENTRY_MODELS, STRICT


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m cluster.faultfs")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve one fault filesystem mount until it is unmounted")
    serve.add_argument("--mountpoint", type=Path, required=True)
    serve.add_argument("--state", type=Path, required=True)
    serve.add_argument("--owner", required=True)
    serve.add_argument("--harness-pid", type=int, required=True)
    serve.add_argument("--entries", choices=ENTRY_MODELS, default=STRICT,
                       help="when directory entries become durable: at an fsync of their directory, or at any fsync")
    arguments = parser.parse_args()
    run(arguments.mountpoint.resolve(), arguments.state.resolve(), arguments.owner, arguments.harness_pid,
        arguments.entries)


if __name__ == "__main__":
    main()
