"""Random operation sequences for the durability tests, and the reference's side of them.

An operation is a tuple (name, *arguments), drawn mostly over the paths that exist in the
reference at that point, so that sequences keep touching the same files and directories. The
reference says whether it is valid; invalid ones (renaming a directory into itself, over a
non-empty one) are skipped everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from tests.faultfs.reference import RefDir, RefFile, Reference

NAMES = ["a", "b", "c"]
payloads = st.binary(min_size=1, max_size=24)
WEIGHTED_KINDS = (["create"] * 3 + ["mkdir", "fsync", "fsync", "sync_all", "lose"]
                  + ["write", "write", "append", "append", "truncate", "unlink", "link", "rename", "rename", "rmdir"])


def draw_operation(data: st.DataObject, reference: Reference) -> tuple:
    """One operation, mostly over what exists, so that most are valid where they are drawn."""
    tree = reference.tree()
    files = sorted(path for path, content in tree.items() if content is not None)
    directories = ["/"] + sorted(path for path, content in tree.items() if content is None)
    shallow = [directory for directory in directories if directory.count("/") <= 2]
    new = [f"{directory.rstrip('/')}/{name}" for directory in shallow for name in NAMES
           if f"{directory.rstrip('/')}/{name}" not in tree]
    empty = [directory for directory in directories[1:] if not any(path.startswith(directory + "/") for path in tree)]
    kinds = [kind for kind in WEIGHTED_KINDS
             if (files or kind not in ("write", "append", "truncate", "unlink", "link"))
             and (new or kind not in ("create", "mkdir", "link"))
             and (tree or kind != "rename") and (empty or kind != "rmdir")]
    kind = data.draw(st.sampled_from(kinds))
    if kind in ("create", "mkdir"):
        return (kind, data.draw(st.sampled_from(new)))
    if kind == "write":
        return (kind, data.draw(st.sampled_from(files)), data.draw(st.integers(0, 40)), data.draw(payloads))
    if kind == "append":
        return (kind, data.draw(st.sampled_from(files)), data.draw(payloads))
    if kind == "truncate":
        return (kind, data.draw(st.sampled_from(files)), data.draw(st.integers(0, 60)))
    if kind == "unlink":
        return (kind, data.draw(st.sampled_from(files)))
    if kind == "rmdir":
        return (kind, data.draw(st.sampled_from(empty)))
    if kind == "fsync":
        return (kind, data.draw(st.sampled_from(files + directories)))
    if kind == "link":
        return (kind, data.draw(st.sampled_from(files)), data.draw(st.sampled_from(new)))
    if kind == "rename":
        source = data.draw(st.sampled_from(sorted(tree)))
        return (kind, source, data.draw(st.sampled_from(new + sorted(tree))))
    if kind == "lose":
        return (kind, data.draw(st.booleans()), data.draw(st.integers(0, 2**16)))
    return (kind,)


def draw_sequence(data: st.DataObject, reference: Reference, apply: Callable[[tuple], None]) -> None:
    """Draws and applies (through apply, which must also apply to reference) up to 60 operations."""
    for _ in range(data.draw(st.integers(1, 60), label="length")):
        operation = draw_operation(data, reference)
        if valid(reference, operation):
            apply(operation)


def valid(reference: Reference, operation: tuple) -> bool:
    name, *arguments = operation
    if name in ("create", "mkdir"):
        return reference.can_create(arguments[0])
    if name in ("write", "append", "truncate", "unlink"):
        return reference.file(arguments[0]) is not None
    if name == "fsync":
        return reference.resolve(arguments[0]) is not None
    if name == "rmdir":
        node = reference.resolve(arguments[0])
        return isinstance(node, RefDir) and node is not reference.root and not node.live
    if name == "rename":
        return reference.can_rename(*arguments)
    if name == "link":
        return reference.file(arguments[0]) is not None and reference.can_create(arguments[1])
    return True


def apply_to_reference(reference: Reference, operation: tuple, torn: dict[str, int] | None = None) -> None:
    """Applies a valid operation; a loss takes the torn bytes per live path from the loss report."""
    name, *arguments = operation
    if name == "create":
        reference.create(arguments[0])
    elif name == "mkdir":
        reference.mkdir(arguments[0])
    elif name in ("write", "append", "truncate"):
        file = reference.file(arguments[0])
        assert file is not None
        if name == "write":
            reference.write(file, arguments[1], arguments[2])
        elif name == "append":
            reference.write(file, len(file.live), arguments[1])
        else:
            reference.truncate(file, arguments[1])
    elif name == "fsync":
        node = reference.resolve(arguments[0])
        assert node is not None
        reference.fsync(node)
    elif name in ("unlink", "rmdir"):
        reference.remove(arguments[0])
    elif name == "rename":
        reference.rename(*arguments)
    elif name == "link":
        file = reference.file(arguments[0])
        directory, new_name = reference.parent(arguments[1])
        assert file is not None and directory is not None
        directory.live[new_name] = file
    elif name == "sync_all":
        reference.sync_all()
    else:
        reference.lose(torn_by_file(reference, torn or {}))


def torn_by_file(reference: Reference, torn: dict[str, int]) -> dict[int, int]:
    """The loss report's torn bytes by live path, checked to be a proper prefix of the last write."""
    by_file = {}
    for path, kept in torn.items():
        file = reference.file(path)
        assert isinstance(file, RefFile) and file.last_write is not None, path
        assert 0 < kept < len(file.last_write[1]), (path, kept)
        by_file[id(file)] = kept
    return by_file
