"""Apache ZooKeeper's own command-line client, zkCli from Debian's package, run one command at a time.

Every command talks to the same server: a new session there sees everything
that server has acknowledged, so no sync is needed between commands. zkCli
exits without closing its session, so an ephemeral node it made stays until
the session expires; the test deletes it instead of waiting.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from tests.facilities import require, require_program
from tests.keeper_ensemble.conftest import Connect

ZKCLI = Path("/usr/share/zookeeper/bin/zkCli.sh")
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
"""zkCli lives for one command: a JVM tuned to start quickly rather than to run long."""
STAT_FIELDS = ("cZxid", "mZxid", "pZxid", "cversion", "dataVersion", "aclVersion", "ephemeralOwner", "dataLength", "numChildren")


@pytest.fixture(scope="module")
def zkcli() -> Path:
    require_program("java")
    require(ZKCLI.exists(), "zkCli", f"{ZKCLI} is missing (Debian: zookeeper)")
    return ZKCLI


def run(zkcli: Path, server: str, *command: str, expect_success: bool = True) -> list[str]:
    """The lines zkCli printed (stdout and stderr: it prints some answers to each)."""
    environment = {**os.environ, "CLIENT_JVMFLAGS": FAST_JVM}
    done = subprocess.run(
        [str(zkcli), "-server", server, *command], capture_output=True, text=True, timeout=120, env=environment
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert (done.returncode == 0) == expect_success, f"zkCli {' '.join(command)} exited {done.returncode}:\n" + "\n".join(lines)
    return lines


def stat_lines(lines: list[str]) -> dict[str, str]:
    fields = dict(line.split(" = ", 1) for line in lines if " = " in line)
    return {name: fields[name] for name in STAT_FIELDS}


def test_zkcli_creates_reads_lists_updates_and_deletes(
    zkcli: Path, ensemble: KeeperEnsemble, connect: Connect, root: str
) -> None:
    server = ensemble.nodes[1].address
    assert f"Created {root}" in run(zkcli, server, "create", root, "hello zk")
    assert f"Created {root}/child" in run(zkcli, server, "create", root + "/child")
    assert f"Created {root}/seq-0000000001" in run(zkcli, server, "create", "-s", root + "/seq-", "x")
    assert f"Created {root}/gone" in run(zkcli, server, "create", "-e", root + "/gone", "ephemeral")
    assert "hello zk" in run(zkcli, server, "get", root)
    assert "[child, gone, seq-0000000001]" in run(zkcli, server, "ls", root)
    assert stat_lines(run(zkcli, server, "stat", root + "/gone"))["ephemeralOwner"] != "0x0"
    run(zkcli, server, "delete", root + "/gone")
    run(zkcli, server, "set", root, "second")

    kazoo = connect(server)
    data, stat = kazoo.get(root)
    expected = {
        "cZxid": hex(stat.czxid), "mZxid": hex(stat.mzxid), "pZxid": hex(stat.pzxid),
        "cversion": "4", "dataVersion": "1", "aclVersion": "0", "ephemeralOwner": "0x0",
        "dataLength": "6", "numChildren": "2",
    }
    assert data == b"second" and stat.cversion == 4
    assert stat_lines(run(zkcli, server, "stat", root)) == expected
    with_data = run(zkcli, server, "get", "-s", root)
    assert "second" in with_data and stat_lines(with_data) == expected

    assert f"Node not empty: {root}" in run(zkcli, server, "delete", root, expect_success=False)
    run(zkcli, server, "delete", root + "/child")
    run(zkcli, server, "delete", root + "/seq-0000000001")
    assert "[]" in run(zkcli, server, "ls", root)
    run(zkcli, server, "delete", root)
    assert f"Node does not exist: {root}" in run(zkcli, server, "get", root, expect_success=False)
    assert kazoo.exists(root) is None
