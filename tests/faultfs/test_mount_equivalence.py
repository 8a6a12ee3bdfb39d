"""The mounted file system against a plain directory: the same random operations through the
kernel (pwrite, O_APPEND writes, truncate and ftruncate, fsync of files and directories, rename
over files and empty directories, hard links, unlink, rmdir) leave the same observable state
(listings, stat sizes and link counts, contents); a power loss on the mount leaves what the
reference model says survives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.faultfs import DiskControl, FaultMount
from tests.faultfs.conftest import fsync_path, require_fuse
from tests.faultfs.operations import apply_to_reference, draw_sequence
from tests.faultfs.reference import Reference


def observed(root: Path) -> dict[str, tuple]:
    """What a process sees: per path its kind, size, link count and content."""
    found: dict[str, tuple] = {}
    for directory, dirs, files in os.walk(root):
        relative = directory[len(str(root)):]
        for name in dirs:
            found[f"{relative}/{name}"] = ("dir",)
        for name in files:
            info = os.stat(Path(directory, name))
            found[f"{relative}/{name}"] = ("file", info.st_size, info.st_nlink, Path(directory, name).read_bytes())
    return found


def expected(reference: Reference) -> dict[str, bytes | None]:
    return reference.tree()


def contents(root: Path) -> dict[str, bytes | None]:
    return {path: (None if kind[0] == "dir" else kind[3]) for path, kind in observed(root).items()}


def apply_through_the_kernel(root: Path, operation: tuple) -> None:
    name, *arguments = operation
    path = lambda relative: str(root) + relative  # noqa: E731
    if name == "create":
        os.close(os.open(path(arguments[0]), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    elif name == "mkdir":
        os.mkdir(path(arguments[0]))
    elif name == "write":
        fd = os.open(path(arguments[0]), os.O_WRONLY)
        assert os.pwrite(fd, arguments[2], arguments[1]) == len(arguments[2])
        os.close(fd)
    elif name == "append":
        fd = os.open(path(arguments[0]), os.O_WRONLY | os.O_APPEND)
        assert os.write(fd, arguments[1]) == len(arguments[1])
        os.close(fd)
    elif name == "truncate":
        if arguments[1] % 2:
            os.truncate(path(arguments[0]), arguments[1])
        else:
            fd = os.open(path(arguments[0]), os.O_RDWR)
            os.ftruncate(fd, arguments[1])
            os.close(fd)
    elif name == "fsync":
        fsync_path(Path(path(arguments[0])))
    elif name == "unlink":
        os.unlink(path(arguments[0]))
    elif name == "rmdir":
        os.rmdir(path(arguments[0]))
    elif name == "rename":
        os.rename(path(arguments[0]), path(arguments[1]))
    elif name == "link":
        os.link(path(arguments[0]), path(arguments[1]))


def rebuild(root: Path, reference: Reference) -> None:
    """Makes the plain directory what the reference holds, hard links included."""
    shutil.rmtree(root)
    root.mkdir()
    first_path: dict[int, str] = {}
    for path, content in sorted(reference.tree().items()):
        node = reference.resolve(path)
        if content is None:
            Path(str(root) + path).mkdir()
        elif id(node) in first_path:
            os.link(first_path[id(node)], str(root) + path)
        else:
            first_path[id(node)] = str(root) + path
            Path(str(root) + path).write_bytes(content)


def step(mounted: Path, control: DiskControl, plain: Path, reference: Reference, operation: tuple) -> None:
    name = operation[0]
    if name == "sync_all":
        control.sync_all()
        apply_to_reference(reference, operation)
    elif name == "lose":
        report = control.lose_unsynced(torn=operation[1], seed=operation[2])
        torn = {file["path"]: file["torn_bytes"] for file in report.files if file["torn_bytes"]}
        apply_to_reference(reference, operation, torn)
        assert contents(mounted) == expected(reference)
        rebuild(plain, reference)
        return
    else:
        apply_through_the_kernel(mounted, operation)
        apply_through_the_kernel(plain, operation)
        apply_to_reference(reference, operation)
    assert observed(mounted) == observed(plain), operation
    assert contents(mounted) == expected(reference), operation


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_mount_behaves_as_a_plain_directory_and_loses_what_the_model_says(
        data: st.DataObject, tmp_path_factory) -> None:
    require_fuse()
    base = tmp_path_factory.mktemp("equivalence")
    plain = base / "plain"
    plain.mkdir()
    mount = FaultMount(base / "node" / "data", base / "node" / "faultfs", owner="test")
    control = mount.mount()
    try:
        reference = Reference()
        draw_sequence(data, reference,
                      lambda operation: step(mount.mountpoint, control, plain, reference, operation))
    finally:
        mount.unmount()
