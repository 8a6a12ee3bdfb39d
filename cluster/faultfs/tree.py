"""Namespaces: directory entries by directory id, walked into paths and compared.

The durability model keeps two of them, the live entries and the durable ones (as of each
directory's last fsync); a power loss turns the durable one into the live one, and the difference
between the two is what the loss report says was undone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

FILE, DIRECTORY, SYMLINK = "file", "dir", "symlink"
ROOT = 0

Directories = dict[int, dict[str, "Entry"]]
Tree = list[tuple[str, "Entry"]]


@dataclass(frozen=True)
class Entry:
    kind: str
    ident: int
    target: str = ""


def split(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def walk(directories: Directories) -> Tree:
    """Every entry reachable from the root, parents before children. A directory reached twice
    (possible when it moved between directories fsynced at different times) counts once, at the
    first place met, as a directory has one parent."""
    found: Tree = []
    visited = {ROOT}
    pending = [("", ROOT)]
    while pending:
        prefix, ident = pending.pop(0)
        entries = directories.get(ident, {})
        for name in sorted(entries):
            entry = entries[name]
            if entry.kind == DIRECTORY:
                if entry.ident in visited:
                    continue
                visited.add(entry.ident)
                pending.append((f"{prefix}/{name}", entry.ident))
            found.append((f"{prefix}/{name}", entry))
    return found


def entry_changes(live: Tree, durable: Tree) -> list[dict]:
    """What going from the live namespace back to the durable one undoes: entries created since
    (gone again), removed since (back again) and renamed since (back at their durable name)."""
    live_paths, durable_paths = _paths_by_ident(live), _paths_by_ident(durable)
    changes = []
    for ident in sorted(live_paths.keys() | durable_paths.keys()):
        gone = sorted(set(live_paths[ident]) - set(durable_paths[ident]))
        back = sorted(set(durable_paths[ident]) - set(live_paths[ident]))
        renamed = min(len(gone), len(back))
        changes += [{"path": path, "what": "renamed", "restored": old}
                    for path, old in zip(gone[:renamed], back[:renamed])]
        changes += [{"path": path, "what": "created"} for path in gone[renamed:]]
        changes += [{"path": path, "what": "removed"} for path in back[renamed:]]
    return sorted(changes, key=lambda change: change["path"])


def _paths_by_ident(tree: Tree) -> defaultdict[int, list[str]]:
    paths: defaultdict[int, list[str]] = defaultdict(list)
    for path, entry in tree:
        paths[entry.ident].append(path)
    return paths
