"""What the disk faults did to the nodes' files, from the nemesis ops' values, for the results and the report.

A corrupt-file start records each file it damaged ({"corrupted": [{"node", "path", "how", ...}]});
a power loss (lose-unsynced, torn-write) records per node what its filesystem threw away
({"lost": {node: {"files": [{"path", "kept_bytes", "lost_bytes", "torn_bytes"}], "entries": [...]}}}).
Neither is a verdict: the checkers judge what clients saw; this says what the disks went through,
so a reader can tie a lost write to the bytes that went with it.
"""

from __future__ import annotations

from typing import Any

from harness.history import NEMESIS, Event, Op, pair


def disk_effects(history: list[Event]) -> dict[str, Any]:
    """{"corrupted": [...], "power_losses": [...]}, each entry naming its nemesis op; empty lists without any."""
    corrupted: list[dict[str, Any]] = []
    power_losses: list[dict[str, Any]] = []
    for op in pair(history):
        if op.process != NEMESIS or op.type != "ok":
            continue
        value = op.value
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("corrupted"), list):
            corrupted += [{**_where(op), **damage} for damage in value["corrupted"] if isinstance(damage, dict)]
        if isinstance(value.get("lost"), dict):
            power_losses.append({**_where(op), "nodes": {str(node): _loss(report)
                                                         for node, report in sorted(value["lost"].items())}})
    return {"corrupted": corrupted, "power_losses": power_losses}


def _where(op: Op) -> dict[str, Any]:
    return {"fault": op.f.removeprefix("start-"), "op": op.index, "time_s": round((op.end or op.start) / 1e9, 3)}


def _loss(report: Any) -> dict[str, Any]:
    """A node's LossReport with its totals: the files that lost or tore bytes, and the directory changes undone."""
    report = report if isinstance(report, dict) else {}
    files = [f for f in report.get("files") or [] if isinstance(f, dict)]
    entries = [e for e in report.get("entries") or [] if isinstance(e, dict)]
    return {
        "files": files,
        "entries": entries,
        "files_changed": sum(1 for f in files if f.get("lost_bytes") or f.get("torn_bytes")),
        "lost_bytes": sum(int(f.get("lost_bytes") or 0) for f in files),
        "torn_bytes": sum(int(f.get("torn_bytes") or 0) for f in files),
    }
