"""Issue 6's end-to-end chaos run on the local backend: three replicated brokers and three keepers as processes."""

from __future__ import annotations

from tests.e2e.runs import assert_valid_chaos_run, leftovers


def test_kill_chaos_on_three_replicas_as_processes_is_valid_and_leaves_nothing(tmp_path):
    watched = assert_valid_chaos_run(tmp_path / "store", "local")
    assert len(watched.pids) >= 6, f"saw only the node processes {watched.pids}"
    assert not leftovers(watched)
