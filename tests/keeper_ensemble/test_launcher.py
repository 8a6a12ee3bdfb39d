"""The ensemble launcher itself: its zoo.cfg, its node handles, and its command line."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.deploy.keeper_ensemble import KeeperEnsemble, Kind, Ports, zoo_cfg
from cluster.properties import parse
from tests.keeper_ensemble.conftest import CONNECT_TIMEOUT, Connect, start_ensemble


def test_zoo_cfg_lists_every_server_and_leaves_fsync_on(tmp_path: Path) -> None:
    ports = {1: Ports(2181, 2888, 3888), 2: Ports(2182, 2889, 3889)}
    config = parse(zoo_cfg(2, tmp_path, ports, tick_time=1000))
    assert config["server.1"] == "127.0.0.1:2888:3888" and config["server.2"] == "127.0.0.1:2889:3889"
    assert (config["clientPort"], config["clientPortAddress"], config["dataDir"]) == ("2182", "127.0.0.1", str(tmp_path))
    assert config["tickTime"] == "1000" and config["4lw.commands.whitelist"] == "*"
    assert "forceSync" not in config


def test_an_ensemble_needs_a_server(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one server"):
        KeeperEnsemble("keeper", 0, tmp_path)


def test_a_killed_node_stops_serving_and_a_started_one_serves_again(kind: Kind, tmp_path: Path, connect: Connect) -> None:
    ensemble = start_ensemble(kind, tmp_path, size=1)
    try:
        node = ensemble.nodes[0]
        assert node.four_letter_word("ruok") == "imok" and node.mode() in ("leader", "standalone")
        assert node.kill() == -signal.SIGKILL
        assert not node.is_running() and node.mode() is None and node.kill() is None
        node.start()
        assert ensemble.wait_until_serving() is node
        connect(node.address).create("/after-restart")
    finally:
        ensemble.close()
    assert not node.is_running()


def test_the_command_line_serves_until_sigterm_and_leaves_nothing_running(kind: Kind, tmp_path: Path, connect: Connect) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-m", "cluster.deploy.keeper_ensemble", kind, "1", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert launcher.stdout is not None
        first_line = launcher.stdout.readline()
        assert f"{kind} serving at 127.0.0.1:" in first_line, first_line
        address = first_line.split(" at ")[1].split(";")[0]
        connect(address, timeout=10.0).create("/through-the-launcher")
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=CONNECT_TIMEOUT) == 0
    finally:
        launcher.kill()
        launcher.wait()
    host, port = address.split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()


def test_the_command_line_explains_bad_arguments(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cluster.deploy.keeper_ensemble", "etcd", "3", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "usage: python -m cluster.deploy.keeper_ensemble {zookeeper|keeper}" in done.stderr
