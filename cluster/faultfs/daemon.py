"""The daemon of one mount: adopts what the mountpoint held, serves the control socket on a
thread and the file system on the main thread until it is unmounted."""

from __future__ import annotations

import logging
from pathlib import Path

from cluster.faultfs.control import ControlServer
from cluster.faultfs.disk import Disk
from cluster.faultfs.faults import DiskFaults, FaultGate
from cluster.faultfs.record import DaemonRecord

CONTROL_NAME = "control.sock"
LOG_NAME = "daemon.log"

log = logging.getLogger(__name__)


def run(mountpoint: Path, state_dir: Path, owner: str, harness_pid: int, entries: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=state_dir / LOG_NAME, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    DaemonRecord.for_this_daemon(owner, mountpoint, harness_pid).write(state_dir)
    disk = Disk(state_dir, entries)
    disk.adopt()
    gate = FaultGate()
    ControlServer(state_dir / CONTROL_NAME, _handlers(disk, gate, mountpoint)).start()
    from cluster.faultfs.operations import FaultOperations, serve  # loads libfuse3

    log.info("serving %s from %s for %s (harness pid %d, %s directory entries)", mountpoint, state_dir, owner,
             harness_pid, entries)
    serve(FaultOperations(disk, gate), str(mountpoint), fsname=str(state_dir))
    log.info("unmounted %s", mountpoint)


def _handlers(disk: Disk, gate: FaultGate, mountpoint: Path) -> dict:
    def set_faults(request: dict) -> None:
        gate.set(DiskFaults.from_dict(request["faults"]))
        log.info("faults in force: %s", gate.faults)

    def clear_faults(request: dict) -> None:
        gate.clear()
        log.info("faults cleared")

    def lose_unsynced(request: dict) -> dict:
        report = disk.lose_unsynced(torn=bool(request.get("torn", False)), seed=int(request.get("seed", 0)))
        log.info("lost unsynced writes (torn=%s): %s", request.get("torn"), report.to_dict())
        return report.to_dict()

    def sync_all(request: dict) -> None:
        disk.sync_all()

    def status(request: dict) -> dict:
        return {"faults": gate.faults.to_dict(), "unsynced_bytes": disk.unsynced_bytes(),
                "remaining_budget": gate.remaining_budget(), "open_handles": disk.open_handles(),
                "mountpoint": str(mountpoint), "entries": disk.entries}

    return {"set_faults": set_faults, "clear_faults": clear_faults, "lose_unsynced": lose_unsynced,
            "sync_all": sync_all, "status": status}
