"""Where a request's path lands in the store, or nowhere: the one gate every served file goes through.

A path is refused (None, which the app answers with 404) when it holds a NUL byte, is absolute,
climbs with `..`, is longer than any real run's path, or resolves (symlinks followed) outside the
store. Symlinks inside the store are fine: a verification links its runs under runs/.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

LONGEST_PATH = 1024
LONGEST_NAME = 255


def in_store(store_root: Path, relative: str) -> Path | None:
    """The existing file or directory `relative` names under store_root, resolved; None if it is not one."""
    if "\0" in relative or "\\" in relative or len(relative) > LONGEST_PATH:
        return None
    parts = PurePosixPath(relative).parts
    if relative.startswith("/") or ".." in parts or any(len(part) > LONGEST_NAME for part in parts):
        return None
    root = store_root.resolve()
    try:
        resolved = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) else None


def relative_to_store(store_root: Path, path: Path) -> str:
    """A resolved path inside the store as the app's URLs name it."""
    return path.relative_to(store_root.resolve()).as_posix()
