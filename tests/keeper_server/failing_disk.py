"""Disk errors injected into keeper where its storage meets the OS (os.pwrite, os.write, os.fsync,
os.fdatasync): for files under one directory, while a switch is on, those calls fail with an errno,
as they would on a failing disk or a full one.

In a test process: `with failing(directory, errno.EIO, "fsync", armed): ...`. As a keeper process:
`python -m tests.keeper_server.failing_disk DIRECTORY ERRNO OPS SWITCH_FILE --config zoo.cfg`, whose
calls fail while SWITCH_FILE exists.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cluster.keeper.main import keeper_command

OPS = {"write": ("pwrite", "write"), "fsync": ("fsync", "fdatasync")}


def install(directory: Path, error: int, ops: str, armed: Callable[[], bool]) -> Callable[[], None]:
    """Replaces the os functions of `ops` ("write", "fsync" or "write,fsync"); returns the undo."""
    originals: dict[str, Callable[..., Any]] = {}
    for op in ops.split(","):
        for name in OPS[op]:
            originals[name] = getattr(os, name)
            setattr(os, name, _failing(originals[name], directory.resolve(), error, armed))

    def undo() -> None:
        for name, original in originals.items():
            setattr(os, name, original)

    return undo


def _failing(real: Callable[..., Any], directory: Path, error: int, armed: Callable[[], bool]) -> Callable[..., Any]:
    def call(fd: int, *args: Any) -> Any:
        if armed() and _under(fd, directory):
            raise OSError(error, os.strerror(error))
        return real(fd, *args)

    return call


def _under(fd: int, directory: Path) -> bool:
    try:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return False
    return directory in (path, *path.parents)


@contextmanager
def failing(directory: Path, error: int, ops: str, armed: Callable[[], bool] = lambda: True) -> Iterator[None]:
    undo = install(directory, error, ops, armed)
    try:
        yield
    finally:
        undo()


def main(argv: list[str]) -> None:
    directory, error_name, ops, switch = argv[:4]
    install(Path(directory), getattr(errno, error_name), ops, Path(switch).exists)
    keeper_command(argv[4:])


if __name__ == "__main__":
    main(sys.argv[1:])
