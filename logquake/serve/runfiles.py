"""What a run directory holds, sorted the way its page shows it, and the tail of a large log."""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from logquake import store

TAIL_LINES = 200
_TAIL_CHUNK = 65536
SHOWN_INLINE = (store.TEST, store.RESULTS)


@dataclass(frozen=True)
class RunFiles:
    """A run's files by kind, as paths relative to the run directory (only files whose target stays in it)."""

    plots: list[str]
    visualizations: list[str]
    logs: list[str]
    other: list[str]


def run_files(run_dir: Path) -> RunFiles:
    files = sorted(path.relative_to(run_dir).as_posix() for path in _inside(run_dir))
    plots = [f for f in files if f.endswith(".png")]
    visualizations = [f for f in files if f.endswith(".html") and f != store.REPORT]
    logs = [f for f in files if f.endswith(".log") or f.startswith(f"{store.NODE_LOGS}/")]
    shown = {*plots, *visualizations, *logs, store.REPORT, store.HISTORY, *SHOWN_INLINE}
    return RunFiles(plots, visualizations, logs, [f for f in files if f not in shown])


def _inside(run_dir: Path) -> list[Path]:
    """The run's regular files; a symlink counts only when it resolves inside the run directory."""
    root = run_dir.resolve()
    found = []
    for directory, _, names in os.walk(run_dir):
        for name in names:
            path = Path(directory) / name
            if not name.startswith(".") and path.resolve().is_relative_to(root) and path.resolve().is_file():
                found.append(path)
    return found


def pretty_json(path: Path) -> str:
    """A JSON file indented for reading, or its text as it is when it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return f"({path.name} unreadable: {error})"
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


def tail(path: Path, lines: int = TAIL_LINES) -> tuple[str, bool]:
    """The last `lines` lines of a file, reading back from its end only as far as needed; and whether it has more."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        start = end
        data = b""
        while start > 0 and data.count(b"\n") <= lines:
            start = max(0, start - _TAIL_CHUNK)
            file.seek(start)
            data = file.read(end - start)
    kept = data.splitlines()[-lines:]
    return b"\n".join(kept).decode("utf-8", errors="replace"), start > 0 or len(data.splitlines()) > lines


def write_tarball(run_dir: Path, archive_path: Path) -> None:
    """The run directory as a .tar.gz of its files (symlinks leading out of it are left out), written to a file:
    node logs can be large, and a server's memory is for every client."""
    with tarfile.open(archive_path, mode="w:gz") as archive:
        for path in sorted(_inside(run_dir)):
            archive.add(path.resolve(), arcname=f"{run_dir.name}/{path.relative_to(run_dir).as_posix()}",
                        recursive=False)

