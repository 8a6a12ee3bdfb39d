"""Fault disks on both backends: every node's data directory on a fault filesystem of its own, mounted before
anything is written into it, written through by the real nodes (in containers too), power-lost through
node.disk, unmounted by down(); and mounts whose harness died removed by `logquake cluster down`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import cluster.deploy.fault_disks
from cluster.deploy.backend import DeployError
from cluster.deploy.cleanup import cleanup_command
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.image import docker_unavailable
from cluster.durable_file import write_atomically
from cluster.faultfs import FS_TYPE, fuse_unavailable
from tests.deploy.kafka_io import consume, produce
from tests.facilities import require


@pytest.fixture
def fuse():
    reason = fuse_unavailable()
    require(reason is None, "FUSE", reason or "")


def fault_mounts(under: Path) -> list[str]:
    """Mount points of our fault filesystems below `under`, from this process's mount table."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fs_type = fields[fields.index("-") + 1]
        if fs_type == FS_TYPE and fields[4].startswith(str(under.resolve())):
            points.append(fields[4])
    return sorted(points)


def check_nodes_on_fault_disks(backend: str, work_dir: Path) -> None:
    deployment = deploy(ClusterSpec(keepers=1, brokers=1, fault_disks=True), backend, work_dir)
    try:
        (keeper,), (broker,) = deployment.keepers, deployment.brokers
        assert fault_mounts(work_dir) == sorted(str(node.data_directory.resolve()) for node in deployment.nodes)
        assert (keeper.data_directory / "myid").read_text() == "1\n"
        deployment.up()
        values = [f"v{i}" for i in range(20)]
        produce(broker.address, "on-fault-disk", values)
        assert consume(broker.address, "on-fault-disk", len(values)) == values
        assert list((broker.data_directory / "on-fault-disk-0").glob("*.log")), "the broker wrote elsewhere"

        keeper.kill()
        write_atomically(keeper.data_directory / "synced", b"y" * 10)
        (keeper.data_directory / "unsynced").write_bytes(b"x" * 100)
        assert keeper.disk is not None
        keeper.disk.lose_unsynced()
        assert not (keeper.data_directory / "unsynced").exists()
        assert (keeper.data_directory / "synced").read_bytes() == b"y" * 10
        assert (keeper.data_directory / "myid").read_text() == "1\n"
        keeper.start()
        keeper.wait_serving(60)
    finally:
        deployment.down()
    assert fault_mounts(work_dir) == []


def test_local_nodes_keep_their_data_on_fault_disks_until_down(fuse, tmp_path):
    check_nodes_on_fault_disks("local", tmp_path)


def test_containers_see_the_fault_disks_the_host_mounted(fuse, tmp_path):
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    check_nodes_on_fault_disks("docker", tmp_path)


def test_fault_disks_are_mounted_with_the_entry_model_asked_for(fuse, tmp_path):
    deployment = deploy(ClusterSpec(keepers=1, brokers=0, fault_disks=True, fault_disk_entries="journaled"),
                        "local", tmp_path)
    try:
        (keeper,) = deployment.keepers
        assert keeper.disk is not None and keeper.disk.status()["entries"] == "journaled"
    finally:
        deployment.down()


def test_a_deployment_without_fault_disks_mounts_nothing(tmp_path):
    deployment = deploy(ClusterSpec(keepers=1, brokers=0), "local", tmp_path)
    try:
        assert deployment.keepers[0].disk is None and fault_mounts(tmp_path) == []
        assert deployment.keepers[0].data_directory == tmp_path / "k1" / "data"
    finally:
        deployment.down()


def test_without_fuse_a_fault_disk_deployment_is_refused_before_anything_is_made(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster.deploy.fault_disks, "fuse_unavailable", lambda: "no /dev/fuse here")
    with pytest.raises(DeployError, match="cannot mount one: no /dev/fuse here"):
        deploy(ClusterSpec(keepers=1, brokers=1, fault_disks=True), "local", tmp_path)
    assert not any(tmp_path.iterdir())


MOUNT_AND_WAIT = """
import sys
from pathlib import Path
from cluster.faultfs import FaultMount
node = Path(sys.argv[1])
FaultMount(node / "data", node / "faultfs", owner="crashed-run").mount()
print("mounted", flush=True)
sys.stdin.read()
"""


@contextmanager
def harness_that_dies(node: Path) -> Iterator[str]:
    """A fault filesystem mounted by another harness, which is SIGKILLed as the block's body begins, as a crashed
    run leaves it (only then, since every deployment of parallel tests removes such mounts); yields its mount point."""
    (node / "data").mkdir(parents=True)
    harness = subprocess.Popen([sys.executable, "-c", MOUNT_AND_WAIT, str(node)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert harness.stdout is not None and harness.stdout.readline() == "mounted\n"
        mountpoint = str((node / "data").resolve())
        assert fault_mounts(node) == [mountpoint]
    finally:
        harness.kill()
        harness.wait(10)
    yield mountpoint


def test_cluster_down_removes_mounts_whose_harness_is_gone(fuse, tmp_path):
    with harness_that_dies(tmp_path / "b1") as stale:
        down = CliRunner().invoke(cleanup_command, ["--work-dir", str(tmp_path / "none")])
    assert down.exit_code == 0, down.output
    assert f"removed fault filesystem at {stale}" in down.output
    assert fault_mounts(tmp_path) == []


def test_the_next_deployment_removes_mounts_whose_harness_is_gone(fuse, tmp_path):
    with harness_that_dies(tmp_path / "crashed" / "b1") as stale:
        deploy(ClusterSpec(keepers=1, brokers=0), "local", tmp_path / "next").down()
    assert stale not in fault_mounts(tmp_path)
    assert (tmp_path / "crashed" / "b1" / "data").is_dir()
