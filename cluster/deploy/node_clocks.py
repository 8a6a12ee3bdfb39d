"""Nodes' wall clocks under the harness's control (cluster.clock), for runs that inject clock faults.

A run that asks for clocks (ClusterSpec.clocks) gives every node a directory `clock/` beside its
data: a copy of the preload library and the node's control file. Every process of the node (the
broker, keeper, or Apache ZooKeeper's JVM that its launcher becomes) is started with the library
preloaded and the control file named, as the backend lets the process see them: the node's own
directory is bind-mounted in its container, so one layout serves both backends, and the library
built on the host loads in the image's bookworm (the same glibc). Nothing else is preloaded: not
the harness, nor the fault filesystems' daemons, proxies or packet handlers. The directories go
when the deployment is released, so the run's store keeps no control file a process could still
be told to read.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from cluster.clock import ClockControl, library_path, preload_environment
from cluster.deploy.backend import DeployError

CLOCK_DIR = "clock"
CONTROL_FILE = "control"

NodePath = Callable[[str], str]
"""A path relative to the node's directory, as the node's processes see it."""


def unavailable_reason() -> str | None:
    """Why node clocks cannot be shifted here (the preload library is not built), or None when they can."""
    try:
        library_path()
    except FileNotFoundError as error:
        return str(error)
    return None


class NodeClocks:
    """One run's clock directories, one per node, kept so that the release removes every one of them."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise DeployError(f"clock faults preload a library into every node process: {reason}")
        self.library = library_path()
        self._controls: dict[Path, ClockControl] = {}

    def prepare(self, node_directory: Path, node_path: NodePath) -> tuple[ClockControl, dict[str, str]]:
        """The node's control file, telling true time, and the environment its processes start with."""
        directory = node_directory / CLOCK_DIR
        directory.mkdir(exist_ok=True)
        self._controls[directory] = control = ClockControl.create(directory / CONTROL_FILE)
        shutil.copy2(self.library, directory / self.library.name)
        library = node_path(f"{CLOCK_DIR}/{self.library.name}")
        return control, preload_environment(library, node_path(f"{CLOCK_DIR}/{CONTROL_FILE}"))

    def remove(self) -> None:
        """Closes every control and removes the clock directories (the nodes are gone by then): each one is tried,
        and DeployError names those that stay."""
        failed = []
        for directory, control in list(self._controls.items()):
            control.close()
            try:
                shutil.rmtree(directory)
            except FileNotFoundError:
                pass
            except OSError as error:
                failed.append(f"{directory}: {error}")
                continue
            del self._controls[directory]
        if failed:
            raise DeployError("removing clock directories failed: " + "; ".join(failed))
