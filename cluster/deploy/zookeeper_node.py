"""`python -m cluster.deploy.zookeeper_node --config zoo.cfg`: a deployment's keeper node as Apache ZooKeeper 3.8.

Both backends start every node as a Python module; for the zookeeper target a keeper node runs this
one instead of keeper, on the very same zoo.cfg and myid. It writes ZooKeeper's console logging
beside the config and then replaces itself with the JVM (exec), so the node's pid, process group
and signals (kill, pause, graceful stop) are ZooKeeper's own, exactly as for keeper. The command is
the one keeper_ensemble runs ZooKeeper with: Debian's jar, its logging binding, QuorumPeerMain.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cluster.deploy.keeper_ensemble import (
    LOGGING_JARS,
    ZOOKEEPER_HEAP,
    ZOOKEEPER_JAR,
    ZOOKEEPER_LOG4J,
    ZOOKEEPER_MAIN,
    unavailable_reason,
)

EXIT_UNAVAILABLE = 2


def command(config: Path) -> list[str]:
    """The JVM command line; the config's directory comes first on the classpath for log4j.properties."""
    classpath = ":".join([str(config.parent), str(ZOOKEEPER_JAR), *map(str, LOGGING_JARS)])
    return ["java", ZOOKEEPER_HEAP, "-cp", classpath, ZOOKEEPER_MAIN, str(config)]


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
    os.execvp("java", command(config))


if __name__ == "__main__":
    sys.exit(main())
