"""Ctrl-C while every broker is powered off: the power comes back, the cluster goes, and no fault
filesystem outlives the run."""

from __future__ import annotations

from pathlib import Path

from harness.history import read_history
from tests.disk_faults.runs import POWER_LOSS, QUEUE, mounts_under, require_fuse
from tests.e2e.runs import leftovers, logquake_run


def the_power_is_off(run_dir: Path) -> bool:
    history = run_dir / "history.jsonl"
    return history.exists() and any(op["f"] == "start-lose-unsynced" and op["type"] == "ok"
                                    for op in read_history(history))


def test_sigint_during_a_power_loss_restores_power_and_leaves_no_mount(tmp_path):
    require_fuse()
    store = tmp_path / "store"
    watched = logquake_run(store, [*QUEUE, *POWER_LOSS, "--nemesis-targets", "all-brokers", "--time-limit", "300"],
                           interrupt_when=the_power_is_off)
    assert watched.code == 2, watched.output
    assert watched.results["interrupted"] is True
    heal = [op for op in watched.history() if op["f"] == "heal"]
    assert [op["type"] for op in heal] == ["invoke", "ok"]
    assert [(undone["fault"], undone["nodes"]) for undone in heal[1]["value"]] == [
        ("lose-unsynced", ["b1", "b2", "b3"])]
    assert not leftovers(watched)
    assert mounts_under(store) == []
