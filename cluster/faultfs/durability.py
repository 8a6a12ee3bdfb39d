"""What a power loss keeps: the durability model, pure bookkeeping with no files in it.

Strict POSIX semantics, as a careful database assumes them:
- a file's content and size become durable only at an fsync (or fdatasync) of that file;
- a directory's entries (creations, removals, renames, links) become durable only at an fsync
  of that directory, and each directory has its own durable entries;
- so a file whose entry was made durable but whose data never was comes back empty, and a
  file fsynced in a directory that never was comes back nowhere.

Files and directories carry ids of ours, never the backing file system's inode numbers (which
it reuses), so that a rename or a hard link keeps one identity and durable entries keep naming
the right content. The physical side (disk.py) asks this model what to copy at an fsync and what
to rebuild at a loss.

A second entry model, "journaled", is what ext4 (data=ordered) and XFS do in practice: their
journal commits every namespace change made so far with any fsync, so an fsynced file keeps its
name without a directory fsync. Software that never fsyncs a directory (Apache ZooKeeper) is
safe there and not under strict POSIX: running both shows which one a result depends on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cluster.faultfs.ranges import DirtyRanges
from cluster.faultfs.tree import DIRECTORY, FILE, ROOT, SYMLINK, Directories, Entry, Tree, entry_changes, split, walk


@dataclass
class FileState:
    size: int = 0
    durable_size: int = 0
    dirty: DirtyRanges = field(default_factory=DirtyRanges)
    shrunk_to: int | None = None
    last_write: tuple[int, int] | None = None

    def unsynced(self) -> bool:
        return bool(self.dirty) or self.shrunk_to is not None or self.size != self.durable_size


@dataclass(frozen=True)
class SyncPlan:
    """What an fsync copies from the live file into its durable copy, in this order:
    cut the copy to shrunk_to (when the file shrank), copy ranges, then set its size."""
    shrunk_to: int | None
    ranges: tuple[tuple[int, int], ...]
    size: int


@dataclass(frozen=True)
class Tear:
    """The part of a file's last unsynced write that a torn power loss keeps."""
    ident: int
    offset: int
    length: int


@dataclass(frozen=True)
class LossReport:
    """What a simulated power loss threw away (the control channel's answer)."""
    files: list[dict]
    entries: list[dict]

    def to_dict(self) -> dict:
        return {"files": self.files, "entries": self.entries}

    @classmethod
    def from_dict(cls, data: dict) -> LossReport:
        return cls(files=list(data["files"]), entries=list(data["entries"]))


@dataclass(frozen=True)
class LossPlan:
    tree: Tree
    tears: list[Tear]
    report: LossReport


STRICT, JOURNALED = "strict", "journaled"
ENTRY_MODELS = (STRICT, JOURNALED)
"""When directory entries become durable: at an fsync of their directory only, or at any fsync."""


class Durability:
    def __init__(self, entries: str = STRICT) -> None:
        if entries not in ENTRY_MODELS:
            raise ValueError(f"unknown entry model {entries!r}: choose {' or '.join(ENTRY_MODELS)}")
        self._journaled = entries == JOURNALED
        self._unlinked_files = False
        """Whether some file may have lost its last live name since forget_unreachable last ran: only
        then can a collection find anything, so directory fsyncs skip the walk otherwise."""
        self._live: Directories = {ROOT: {}}
        self._durable: Directories = {ROOT: {}}
        self._files: dict[int, FileState] = {}
        self._next_ident = ROOT + 1

    def lookup(self, path: str) -> Entry | None:
        entry = Entry(DIRECTORY, ROOT)
        for name in split(path):
            if entry.kind != DIRECTORY:
                return None
            found = self._live[entry.ident].get(name)
            if found is None:
                return None
            entry = found
        return entry

    def create(self, path: str) -> int:
        existing = self.lookup(path)
        if existing is not None and existing.kind == FILE:
            return existing.ident
        ident = self._new_ident()
        self._files[ident] = FileState()
        self._place(path, Entry(FILE, ident))
        return ident

    def mkdir(self, path: str) -> int:
        ident = self._new_ident()
        self._live[ident] = {}
        self._place(path, Entry(DIRECTORY, ident))
        return ident

    def symlink(self, path: str, target: str) -> None:
        self._place(path, Entry(SYMLINK, self._new_ident(), target))

    def link(self, existing: str, new: str) -> None:
        entry = self.lookup(existing)
        if entry is None:
            raise FileNotFoundError(existing)
        self._place(new, entry)

    def remove(self, path: str) -> None:
        directory, name = self._parent(path)
        self._unlinked_files = True
        removed = self._live[directory].pop(name, None)
        if removed is not None and removed.kind == DIRECTORY:
            del self._live[removed.ident]

    def rename(self, old: str, new: str) -> None:
        directory, name = self._parent(old)
        entry = self._live[directory].get(name)
        if entry is None:
            raise FileNotFoundError(old)
        if self.lookup(new) == entry:
            return
        del self._live[directory][name]
        self._unlinked_files = True
        self._place(new, entry)

    def wrote(self, ident: int, offset: int, length: int) -> None:
        state = self._files[ident]
        end = offset + length
        state.dirty.add(offset, end)
        state.last_write = (offset, length)
        if end > state.size:
            state.size = end

    def zeroed(self, ident: int, offset: int, length: int) -> None:
        state = self._files[ident]
        state.dirty.add(offset, min(offset + length, state.size))
        state.last_write = None

    def resized(self, ident: int, size: int) -> None:
        state = self._files[ident]
        if size < state.size:
            state.dirty.clip(size)
            state.shrunk_to = size if state.shrunk_to is None else min(state.shrunk_to, size)
        state.size = size
        state.last_write = None

    def grown(self, ident: int, size: int) -> None:
        state = self._files[ident]
        state.size = max(state.size, size)

    def size(self, ident: int) -> int:
        return self._files[ident].size

    def sync_plan(self, ident: int) -> SyncPlan | None:
        if self._journaled:
            self.sync_directories()
        state = self._files.get(ident)
        if state is None or not state.unsynced():
            return None
        return SyncPlan(state.shrunk_to, tuple(state.dirty), state.size)

    def synced(self, ident: int, plan: SyncPlan) -> None:
        """Marks the plan's changes durable; the caller kept the file unchanged since sync_plan."""
        self._files[ident] = _settled(plan.size)

    def sync_directory(self, ident: int) -> None:
        if self._journaled:
            self.sync_directories()
        else:
            self._durable[ident] = dict(self._live[ident])

    def sync_directories(self) -> None:
        for ident, entries in self._live.items():
            self._durable[ident] = dict(entries)

    def file_idents(self) -> list[int]:
        return list(self._files)

    def unsynced_bytes(self) -> int:
        return sum(state.dirty.total() for state in self._files.values())

    def live_tree(self) -> Tree:
        return walk(self._live)

    def durable_tree(self) -> Tree:
        return walk(self._durable)

    def plan_loss(self, torn: bool, seed: int) -> LossPlan:
        tree = self.durable_tree()
        live = self.live_tree()
        survivors = {entry.ident for _, entry in tree if entry.kind == FILE}
        readable = survivors & {entry.ident for _, entry in live}  # where the last write can be read
        tears = self._tears(readable, random.Random(seed)) if torn else []
        report = LossReport(
            files=self._file_losses(live, {tear.ident: tear for tear in tears}, survivors),
            entries=entry_changes(live, tree))
        return LossPlan(tree, tears, report)

    def lose(self, plan: LossPlan) -> None:
        """Makes the durable state the live one, as the machine comes back after the loss."""
        kept = {tear.ident: max(self._files[tear.ident].durable_size, tear.offset + tear.length)
                for tear in plan.tears}
        self._durable = _directories(plan.tree)
        self._live = {ident: dict(entries) for ident, entries in self._durable.items()}
        survivors = {entry.ident for _, entry in plan.tree if entry.kind == FILE}
        self._files = {ident: _settled(kept.get(ident, self._files[ident].durable_size))
                       for ident in survivors}
        self._unlinked_files = True

    def forget_unreachable(self, still_open: set[int]) -> list[int]:
        """Drops files and directory records neither tree reaches; returns the dropped file ids."""
        if not self._unlinked_files:
            return []
        live = {entry.ident for _, entry in self.live_tree()}
        reachable = live | {entry.ident for _, entry in self.durable_tree()}
        self._durable = {ident: entries for ident, entries in self._durable.items()
                         if ident == ROOT or ident in reachable}
        dropped = [ident for ident in self._files if ident not in reachable and ident not in still_open]
        for ident in dropped:
            del self._files[ident]
        self._unlinked_files = any(ident not in live for ident in self._files)
        return dropped

    def _tears(self, idents: set[int], rng: random.Random) -> list[Tear]:
        tears = []
        for ident in sorted(idents):
            state = self._files[ident]
            if state.last_write is not None:
                offset, length = state.last_write
                if length >= 2:
                    tears.append(Tear(ident, offset, rng.randint(1, length - 1)))
        return tears

    def _file_losses(self, live: Tree, tears: dict[int, Tear], survivors: set[int]) -> list[dict]:
        losses, seen = [], set()
        for path, entry in live:
            state = self._files.get(entry.ident) if entry.kind == FILE else None
            if state is None or entry.ident in seen:
                continue
            seen.add(entry.ident)
            tear = tears.get(entry.ident)
            torn = tear.length if tear else 0
            if entry.ident not in survivors:
                losses.append({"path": path, "kept_bytes": 0, "lost_bytes": state.size, "torn_bytes": 0})
            elif state.unsynced():
                kept = max(state.durable_size, tear.offset + torn) if tear else state.durable_size
                losses.append({"path": path, "kept_bytes": kept,
                               "lost_bytes": state.dirty.total() - torn, "torn_bytes": torn})
        return losses

    def _new_ident(self) -> int:
        ident = self._next_ident
        self._next_ident += 1
        return ident

    def _parent(self, path: str) -> tuple[int, str]:
        parts = split(path)
        parent = self.lookup("/".join(parts[:-1]))
        if parent is None or parent.kind != DIRECTORY:
            raise FileNotFoundError(path)
        return parent.ident, parts[-1]

    def _place(self, path: str, entry: Entry) -> None:
        directory, name = self._parent(path)
        replaced = self._live[directory].get(name)
        if replaced is not None and replaced.ident != entry.ident:
            self._unlinked_files = True
            if replaced.kind == DIRECTORY:
                del self._live[replaced.ident]
        self._live[directory][name] = entry


def _settled(size: int) -> FileState:
    return FileState(size=size, durable_size=size)


def _directories(tree: Tree) -> Directories:
    """The namespace a walk came from, without what the walk left out."""
    directories: Directories = {ROOT: {}}
    ident_of = {"": ROOT}
    for path, entry in tree:
        parent, name = path.rsplit("/", 1)
        directories[ident_of[parent]][name] = entry
        if entry.kind == DIRECTORY:
            ident_of[path] = entry.ident
            directories[entry.ident] = {}
    return directories
