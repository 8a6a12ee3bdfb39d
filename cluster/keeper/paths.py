"""Znode paths: ZooKeeper's validity rules and the parent/child split.

ZooKeeper refuses a bad path with BADARGUMENTS before it looks at the tree, so
validity is a property of the string alone.
"""

from __future__ import annotations

from cluster.keeper.errors import ErrorCode, KeeperError

ROOT = "/"


def validate_path(path: str, sequential: bool = False) -> None:
    """Raises BADARGUMENTS unless `path` is absolute, canonical and free of forbidden characters.

    A sequential create may end in '/': the server appends the counter, so the
    rules apply to the path with a digit added, as ZooKeeper does.
    """
    candidate = path + "1" if sequential else path
    if not candidate.startswith("/"):
        raise KeeperError(ErrorCode.BADARGUMENTS, path)
    if candidate == ROOT:
        return
    names = candidate[1:].split("/")
    if any(name in ("", ".", "..") for name in names) or any(_forbidden(c) for c in candidate):
        raise KeeperError(ErrorCode.BADARGUMENTS, path)


def _forbidden(char: str) -> bool:
    code = ord(char)
    return (
        code <= 0x1F
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xF8FF
        or 0xFFF0 <= code <= 0xFFFF
    )


def parent_of(path: str) -> str:
    head = path[: path.rindex("/")]
    return head or ROOT


def name_of(path: str) -> str:
    return path[path.rindex("/") + 1 :]
