"""A Raft coordinator that fsyncs before it answers loses nothing when every node loses power at once, and
loses acknowledged writes when fsync is off (zoo.cfg forceSync=no): our keeper and Apache ZooKeeper 3.8.

ZooKeeper fsyncs its log but never a directory: it is checked under the journaled entry model (what ext4
and XFS do); under strict POSIX it may lose a whole new log file, which docs/disk-faults.md reports."""

from __future__ import annotations

import pytest

from tests.disk_faults.runs import POWER_LOSS, REGISTER, disk_run, power_losses
from tests.e2e.runs import WatchedRun

ALL_KEEPERS = [*POWER_LOSS, "--nemesis-targets", "all-keepers", "--seed", "1"]
TARGETS = {"keeper": ["--target", "keeper"],
           "zookeeper": ["--target", "zookeeper", "--nemesis-option", "disk-entries=journaled"]}


def linearizability(watched: WatchedRun) -> dict:
    return watched.results["register"]


@pytest.mark.parametrize("target", TARGETS)
def test_with_fsync_a_power_loss_of_every_keeper_stays_linearizable(tmp_path, target):
    watched = disk_run(tmp_path / "store", [*REGISTER, *ALL_KEEPERS, *TARGETS[target]])
    assert watched.code == 0, watched.output
    assert power_losses(watched) and all(loss["nodes"] == ["k1", "k2", "k3"] for loss in power_losses(watched))
    assert linearizability(watched)["valid"] is True
    assert watched.results["stats"]["by_f"]["write"]["ok"] > 20


@pytest.mark.parametrize("target", TARGETS)
def test_without_fsync_a_power_loss_of_every_keeper_loses_acknowledged_writes(tmp_path, target):
    watched = disk_run(tmp_path / "store", [*REGISTER, *ALL_KEEPERS, *TARGETS[target],
                                            "--keeper-override", "forceSync=no"])
    assert watched.code == 1, watched.output
    result = linearizability(watched)
    assert result["valid"] is False
    assert any("forceSync=no" in reason for reason in result["expected"]), result
