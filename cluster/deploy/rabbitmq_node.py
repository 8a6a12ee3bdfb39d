"""`python -m cluster.deploy.rabbitmq_node --config rabbitmq.conf`: a deployment's node as RabbitMQ 3.10.

Both backends start every node as a Python module; a RabbitMQ node runs this one. It gives the
node's directory (the config's) its cookie and plugin file, and replaces itself with rabbitmq-server
(exec), which replaces itself with the Erlang VM: the node's pid, process group and signals (kill,
pause, graceful stop) are the VM's own, as for every other node.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cluster.deploy.rabbitmq import BIN, IDENTITY_FILE, NodeIdentity, prepare, server_environment, unavailable_reason

EXIT_UNAVAILABLE = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.deploy.rabbitmq_node", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the node's rabbitmq.conf")
    config = parser.parse_args(argv).config.resolve()
    reason = unavailable_reason()
    if reason is not None:
        print(f"cannot run RabbitMQ here: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if not (config.parent / IDENTITY_FILE).is_file():
        print(f"no {IDENTITY_FILE} beside {config}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    directory = config.parent
    identity = NodeIdentity.load(directory)
    prepare(directory, identity)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(directory)
    os.execve(str(BIN / "rabbitmq-server"), [str(BIN / "rabbitmq-server")], server_environment(directory, identity))


if __name__ == "__main__":
    sys.exit(main())
