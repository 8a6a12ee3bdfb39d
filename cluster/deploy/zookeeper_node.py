"""`python -m cluster.deploy.zookeeper_node --config zoo.cfg`: a deployment's keeper node as Apache ZooKeeper 3.8.

Both backends start every node as a Python module; for the zookeeper target a keeper node runs this
one instead of keeper, on the very same zoo.cfg and myid. It writes ZooKeeper's console logging
beside the config and then replaces itself with the JVM (exec), so the node's pid, process group
and signals (kill, pause, graceful stop) are ZooKeeper's own, exactly as for keeper. The command is
keeper_ensemble's: Debian's jar, its logging binding, QuorumPeerMain.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cluster.deploy.keeper_ensemble import ZOOKEEPER_LOG4J, unavailable_reason, zookeeper_command

EXIT_UNAVAILABLE = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.deploy.zookeeper_node", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="the node's zoo.cfg")
    config = parser.parse_args(argv).config.resolve()
    reason = unavailable_reason("zookeeper")
    if reason is not None:
        print(f"cannot run Apache ZooKeeper here: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if not config.is_file():
        print(f"no zoo.cfg at {config}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    (config.parent / "log4j.properties").write_text(ZOOKEEPER_LOG4J)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp("java", zookeeper_command(config))


if __name__ == "__main__":
    sys.exit(main())
