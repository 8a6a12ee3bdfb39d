"""Stopping clusters and removing what crashed or killed runs left behind: `logquake cluster down`.

Containers and networks are found by the run label every docker run puts on them; local node
processes by the pid files their nodes keep in their directories, checked against the process's
command line (it names the node's own config file) so that a recycled pid is never killed. A work
directory holding a `cluster up` record (record.py) is a cluster people started by hand: its run's
containers and its node directories go too, since nothing else will ever read them. Fault
filesystems whose harness is gone are unmounted first (fault_disks.py), so that nothing is removed
from under a mount.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import click
import docker

from cluster.deploy.backend import DeployError
from cluster.deploy.image import docker_unavailable
from cluster.deploy.docker_backend import remove_runs
from cluster.deploy.fault_disks import remove_stale
from cluster.deploy.local import PID_FILE
from cluster.deploy.rabbitmq import EPMD_LOG, local_epmd_ports, stop_epmd
from cluster.deploy.record import DEFAULT_WORK_DIR, RECORD_FILE, ClusterRecord, RecordError


def remove_leftovers(local_dirs: list[Path] | None = None, docker_runs: bool = True,
                     run_id: str | None = None) -> list[str]:
    """End node processes under local_dirs and (if docker_runs) remove the containers and networks
    of run_id, or of every logquake run; returns what was removed."""
    removed = []
    for directory in local_dirs or []:
        removed += _end_local_nodes(directory)
        for port in local_epmd_ports(directory):
            removed += stop_epmd(port)
    if docker_runs:
        removed += _remove_docker_runs(run_id)
    return removed


def _end_local_nodes(directory: Path) -> list[str]:
    ended = []
    for pid_file in sorted(directory.rglob(PID_FILE)):
        node_dir = pid_file.parent
        try:
            pid = int(pid_file.read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (ValueError, OSError):
            pid_file.unlink(missing_ok=True)
            continue
        if any(arg.startswith(str(node_dir.resolve()).encode()) for arg in command):
            try:
                os.killpg(pid, signal.SIGKILL)
                _wait_gone(pid)
                ended.append(f"process {pid} ({node_dir.name})")
            except ProcessLookupError:
                pass
        pid_file.unlink(missing_ok=True)
    return ended


def _wait_gone(pid: int, timeout: float = 10) -> None:
    """SIGKILL is delivered asynchronously; a process counts as ended once it is gone or a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state == "Z":
            return
        time.sleep(0.05)


def _remove_docker_runs(run_id: str | None) -> list[str]:
    if docker_unavailable():
        return []
    return remove_runs(docker.from_env(), run_id)


def remove_recorded_cluster(work_dir: Path) -> list[str]:
    """Everything a `cluster up` in work_dir left: node processes, the run's containers, node directories."""
    record = ClusterRecord.load(work_dir)
    removed = remove_leftovers(local_dirs=[work_dir], docker_runs=record.backend == "docker", run_id=record.run_id)
    for node in record.nodes:
        node_dir = work_dir / node.name
        if node_dir.is_dir():
            shutil.rmtree(node_dir)
            removed.append(f"directory {node_dir}")
    (work_dir / RECORD_FILE).unlink()
    (work_dir / EPMD_LOG).unlink(missing_ok=True)
    if not any(work_dir.iterdir()):
        work_dir.rmdir()
    return removed


@click.command("cleanup")
@click.option("--work-dir", "work_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help=f"A `cluster up` work directory, or where local runs kept their nodes (repeatable; default "
                   f"{DEFAULT_WORK_DIR}): node processes found there are ended; a `cluster up` cluster's "
                   f"containers and files are removed too.")
@click.option("--run", "run_id", help="This run's containers and network.")
@click.option("--all-runs", is_flag=True,
              help="Every logquake run's containers and networks, including runs still going.")
def cleanup_command(work_dirs: tuple[Path, ...], run_id: str | None, all_runs: bool) -> None:
    """Stop a cluster `cluster up` started and remove it; remove what crashed runs left (their containers,
    networks, node processes, and fault filesystems whose harness is gone)."""
    try:
        removed = remove_stale()
        for work_dir in [d for d in work_dirs or (DEFAULT_WORK_DIR,) if d.is_dir()]:
            recorded = ClusterRecord.exists(work_dir)
            removed += remove_recorded_cluster(work_dir) if recorded else remove_leftovers([work_dir], docker_runs=False)
        if run_id or all_runs:
            removed += remove_leftovers(run_id=None if all_runs else run_id)
    except (RecordError, DeployError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(f"removed {what}" for what in removed) or "nothing left over")


if __name__ == "__main__":
    cleanup_command()
