"""Removing what crashed or killed runs left behind (what `logquake cluster down` calls).

Containers and networks are found by the run label every docker run puts on them; local node
processes by the pid files their nodes keep in their directories, checked against the process's
command line so that a recycled pid is never killed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import click
import docker

from cluster.deploy.image import docker_unavailable
from cluster.deploy.docker_backend import remove_runs
from cluster.deploy.local import PID_FILE


def remove_leftovers(local_dirs: list[Path] | None = None, docker_runs: bool = True,
                     run_id: str | None = None) -> list[str]:
    """End node processes under local_dirs and (if docker_runs) remove the containers and networks
    of run_id, or of every logquake run; returns what was removed."""
    removed = []
    for directory in local_dirs or []:
        removed += _end_local_nodes(directory)
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
        if b"logquake" in command and any(arg.startswith(str(node_dir.resolve()).encode()) for arg in command):
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


@click.command("cleanup")
@click.option("--work-dir", "work_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where local runs kept their nodes (repeatable); their node processes are ended.")
@click.option("--run", "run_id",
              help="Only this run's containers and network (default: every logquake run's, including runs still going).")
def cleanup_command(work_dirs: tuple[Path, ...], run_id: str | None) -> None:
    """Remove what crashed runs left: containers and networks by label, local node processes by pid file."""
    removed = remove_leftovers(local_dirs=[d for d in work_dirs if d.is_dir()], run_id=run_id)
    click.echo("\n".join(f"removed {what}" for what in removed) or "nothing left over")


if __name__ == "__main__":
    cleanup_command()
