"""Run directories, the latest links and atomic JSON."""

from __future__ import annotations

import json

import pytest

from logquake import store
from logquake.registry import WORKLOADS


def test_runs_get_their_own_directories_and_latest_follows_the_newest(tmp_path):
    first = store.new_run_dir(tmp_path, "queue-kill")
    second = store.new_run_dir(tmp_path, "queue-kill")
    other = store.new_run_dir(tmp_path, "queue-pause")
    assert first != second and first.parent == second.parent == tmp_path / "queue-kill"
    assert (tmp_path / "queue-kill" / "latest").resolve() == second
    assert (tmp_path / "latest").resolve() == other
    assert not (tmp_path / "latest").readlink().is_absolute()  # the store can be moved or copied


def test_resolve_follows_latest_and_refuses_other_directories(tmp_path):
    run_dir = store.new_run_dir(tmp_path, "t")
    store.write_json(run_dir / store.TEST, WORKLOADS.spec().to_dict())
    assert store.resolve_run_dir(tmp_path) == run_dir
    assert store.resolve_run_dir(tmp_path / "t") == run_dir
    assert store.resolve_run_dir(run_dir) == run_dir
    with pytest.raises(store.StoreError, match="not a stored run"):
        store.resolve_run_dir(tmp_path / "t" / "nothing")


def test_write_json_replaces_whole_files(tmp_path):
    path = tmp_path / "results.json"
    store.write_json(path, {"valid": True})
    store.write_json(path, {"valid": False, "n": [1, 2]})
    assert json.loads(path.read_text()) == {"valid": False, "n": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    path.write_text("{")
    with pytest.raises(store.StoreError, match="not JSON"):
        store.read_json(path)
