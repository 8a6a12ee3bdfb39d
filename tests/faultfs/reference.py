"""The simplest model of strict POSIX durability, to check the real one against.

Files and directories are objects; each keeps its live state and its durable state whole (a
file's bytes, a directory's entries), copied at its fsync. A power loss walks the durable entries
from the root (breadth first, names sorted, a directory reached twice kept at its first place)
and makes them live again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Node = "RefFile | RefDir"


@dataclass(eq=False)
class RefFile:
    live: bytearray = field(default_factory=bytearray)
    durable: bytes = b""
    last_write: tuple[int, bytes] | None = None


@dataclass(eq=False)
class RefDir:
    live: dict[str, RefFile | RefDir] = field(default_factory=dict)
    durable: dict[str, RefFile | RefDir] = field(default_factory=dict)


def parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


class Reference:
    def __init__(self, journaled: bool = False) -> None:
        self.root = RefDir()
        self.journaled = journaled
        """Any fsync makes every directory's entries durable (the journaled entry model)."""

    def resolve(self, path: str) -> RefFile | RefDir | None:
        node: RefFile | RefDir = self.root
        for name in parts(path):
            if not isinstance(node, RefDir) or name not in node.live:
                return None
            node = node.live[name]
        return node

    def parent(self, path: str) -> tuple[RefDir | None, str]:
        names = parts(path)
        if not names:
            return None, ""
        directory = self.resolve("/".join(names[:-1]))
        return (directory if isinstance(directory, RefDir) else None), names[-1]

    def file(self, path: str) -> RefFile | None:
        node = self.resolve(path)
        return node if isinstance(node, RefFile) else None

    def can_create(self, path: str) -> bool:
        directory, name = self.parent(path)
        return directory is not None and name not in directory.live

    def create(self, path: str) -> RefFile:
        directory, name = self.parent(path)
        assert directory is not None
        new = RefFile()
        directory.live[name] = new
        return new

    def mkdir(self, path: str) -> None:
        directory, name = self.parent(path)
        assert directory is not None
        directory.live[name] = RefDir()

    @staticmethod
    def write(file: RefFile, offset: int, data: bytes) -> None:
        if offset > len(file.live):
            file.live.extend(bytes(offset - len(file.live)))
        file.live[offset:offset + len(data)] = data
        file.last_write = (offset, data)

    @staticmethod
    def truncate(file: RefFile, size: int) -> None:
        del file.live[size:]
        file.live.extend(bytes(size - len(file.live)))
        file.last_write = None

    def fsync(self, node: RefFile | RefDir) -> None:
        if self.journaled:
            for directory in [self.root, *self._reachable(live=True)]:
                if isinstance(directory, RefDir):
                    directory.durable = dict(directory.live)
        if isinstance(node, RefFile):
            node.durable = bytes(node.live)
            node.last_write = None
        else:
            node.durable = dict(node.live)

    def remove(self, path: str) -> None:
        directory, name = self.parent(path)
        assert directory is not None
        del directory.live[name]

    def can_rename(self, old: str, new: str) -> bool:
        source, target = self.resolve(old), self.resolve(new)
        directory, _ = self.parent(new)
        if source is None or directory is None or not parts(old) or not parts(new):
            return False
        if isinstance(source, RefDir):
            inside = parts(new)[:len(parts(old))] == parts(old)
            return not inside and (target is None or (isinstance(target, RefDir) and not target.live))
        return target is None or isinstance(target, RefFile)

    def rename(self, old: str, new: str) -> None:
        source = self.resolve(old)
        directory, name = self.parent(new)
        assert source is not None and directory is not None
        if directory.live.get(name) is source:
            return
        self.remove(old)
        directory.live[name] = source

    def sync_all(self) -> None:
        for node in self._reachable(live=True):
            self.fsync(node)
        self.fsync(self.root)

    def lose(self, torn: dict[int, int] | None = None) -> None:
        """torn: for a file (by id()) how many bytes of its last write survive."""
        torn = torn or {}
        files: dict[int, RefFile] = {}
        visited = {id(self.root)}
        pending = [self.root]
        while pending:
            directory = pending.pop(0)
            directory.live = {}
            for name in sorted(directory.durable):
                node = directory.durable[name]
                if isinstance(node, RefDir):
                    if id(node) in visited:
                        continue
                    visited.add(id(node))
                    pending.append(node)
                else:
                    files[id(node)] = node
                directory.live[name] = node
            directory.durable = dict(directory.live)
        for key, file in files.items():
            content = bytearray(file.durable)
            if key in torn and file.last_write is not None:
                offset, data = file.last_write
                content.extend(bytes(max(0, offset - len(content))))
                content[offset:offset + torn[key]] = data[:torn[key]]
            file.live, file.durable, file.last_write = content, bytes(content), None

    def tree(self) -> dict[str, bytes | None]:
        """Every live path: a file's bytes, None for a directory."""
        found: dict[str, bytes | None] = {}
        pending = [("", self.root)]
        while pending:
            prefix, directory = pending.pop()
            for name, node in directory.live.items():
                path = f"{prefix}/{name}"
                if isinstance(node, RefDir):
                    found[path] = None
                    pending.append((path, node))
                else:
                    found[path] = bytes(node.live)
        return found

    def _reachable(self, live: bool) -> list[RefFile | RefDir]:
        nodes: list[RefFile | RefDir] = []
        pending = [self.root]
        while pending:
            directory = pending.pop()
            for node in (directory.live if live else directory.durable).values():
                nodes.append(node)
                if isinstance(node, RefDir):
                    pending.append(node)
        return nodes
