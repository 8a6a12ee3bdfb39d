"""zoo.cfg as keeper reads it: ZooKeeper's names and defaults, its server.N forms, refusals by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.deploy.configs import zoo_cfg
from cluster.deploy.node import NodePlan
from cluster.keeper.config import IGNORED, KeeperConfig, Peer


def _config(tmp_path: Path, text: str, myid: int | None = None) -> KeeperConfig:
    if myid is not None:
        (tmp_path / "myid").write_text(f"{myid}\n")
    path = tmp_path / "zoo.cfg"
    path.write_text(f"dataDir={tmp_path}\n{text}")
    return KeeperConfig.load(path)


def test_a_standalone_zoo_cfg_takes_zookeepers_defaults(tmp_path: Path) -> None:
    config = _config(tmp_path, "clientPort=2181\n")
    assert config.standalone and config.my_id == 1
    assert (config.client_host, config.client_port, config.tick_ms) == ("0.0.0.0", 2181, 3000)
    assert (config.min_session_timeout_ms, config.max_session_timeout_ms) == (6000, 60000)
    assert (config.snap_count, config.force_sync, config.linearizable_reads) == (100_000, True, False)
    assert config.log_dir == tmp_path


def test_session_timeouts_are_clamped_into_the_configured_range(tmp_path: Path) -> None:
    config = _config(tmp_path, "clientPort=1\ntickTime=1000\nminSessionTimeout=3000\n")
    assert [config.negotiate_timeout(t) for t in (1, 5000, 10**6)] == [3000, 5000, 20000]


def test_an_ensemble_reads_myid_and_both_server_line_forms(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\nclientPort=2181\nlinearizableReads=true\n"
        "server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888:participant;2182\n"
        "server.3=10.0.0.3:2888:3888;127.0.0.1:2183\n",
        myid=3,
    )
    assert config.peers == (
        Peer(1, "10.0.0.1", 2888, 3888),
        Peer(2, "10.0.0.2", 2888, 3888, None, 2182),
        Peer(3, "10.0.0.3", 2888, 3888, "127.0.0.1", 2183),
    )
    assert (config.my_id, config.client_host, config.client_port) == (3, "127.0.0.1", 2183)
    assert not config.standalone and config.linearizable_reads


def test_zookeeper_only_names_are_accepted_and_ignored(tmp_path: Path) -> None:
    lines = "".join(f"{name}=1\n" for name in sorted(IGNORED))
    assert _config(tmp_path, "clientPort=2181\n" + lines).client_port == 2181


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clientPort=2181\nmaxClientConnections=5\n", "unknown property maxClientConnections"),
        ("clientPort=2181\ndynamicConfigFile=/x\n", "reconfig is not supported"),
        ("clientPort=2181\nserver.1=h:1:2:observer\n", "observers are not supported"),
        ("clientPort=2181\ntickTime=0\n", "tickTime must be positive"),
        ("clientPort=70000\n", "not a port"),
        ("tickTime=2000\n", "clientPort is required"),
        ("clientPort=1\nminSessionTimeout=9000\nmaxSessionTimeout=8000\n", "exceeds maxSessionTimeout"),
        ("clientPort=1\nforceSync=maybe\n", "yes or no"),
        ("clientPort=1\nserver.x=h:1:2\n", "positive integer"),
        ("clientPort=1\nserver.1=h:1\n", "host:peerPort:electionPort"),
    ],
)
def test_a_bad_or_unsupported_setting_is_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "myid").write_text("1")
    with pytest.raises(ValueError, match=message):
        _config(tmp_path, text)


def test_an_ensemble_without_a_matching_myid_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="myid"):
        _config(tmp_path, "clientPort=1\nserver.1=h:1:2\n")
    with pytest.raises(ValueError, match="no server.N line declares"):
        _config(tmp_path, "clientPort=1\nserver.1=h:1:2\n", myid=2)


def test_a_deployments_force_sync_override_reaches_zoo_cfg_and_keeper(tmp_path: Path) -> None:
    """`--keeper-override forceSync=no` ends up in the zoo.cfg that either keeper kind runs on
    (Apache ZooKeeper reads it as the system property zookeeper.forceSync); keeper then never fsyncs."""
    plan = NodePlan("k1", "keeper", 1, "127.0.0.1")
    (tmp_path / "myid").write_text("1\n")
    for overrides, force_sync in (({}, True), ({"forceSync": "no"}, False)):
        text = zoo_cfg(plan, [plan], str(tmp_path), overrides)
        assert ("forceSync=no\n" in text) is not force_sync
        (tmp_path / "zoo.cfg").write_text(text)
        assert KeeperConfig.load(tmp_path / "zoo.cfg").force_sync is force_sync
