"""Run directories, the latest links, atomic JSON, and the spec stored as test.json."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logquake import store
from logquake.spec import SpecError, TestSpec


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
    store.write_json(run_dir / store.TEST, TestSpec().to_dict())
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


specs = st.builds(
    TestSpec,
    name=st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
    nemesis=st.lists(st.sampled_from(["kill", "pause", "restart", "partition"]), unique=True).map(tuple),
    nemesis_targets=st.lists(st.sampled_from(["one", "majority", "partition-leader"]), unique=True).map(tuple),
    acks=st.sampled_from(["0", "1", "all"]),
    retries=st.integers(0, 10),
    partitions=st.integers(1, 12),
    mode=st.sampled_from(["assign", "subscribe"]),
    broker_overrides=st.dictionaries(st.sampled_from(["log.segment.bytes", "replica.lag.time.max.ms"]),
                                     st.integers(1, 10**6).map(str)),
    time_limit=st.floats(1, 600),
    seed=st.integers(0, 2**32),
    client=st.sampled_from(["confluent-kafka", "kafka-python"]),
)


@settings(max_examples=50)
@given(specs)
def test_spec_round_trips_through_json(spec):
    assert TestSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize("change, field", [
    ({"acks": "2"}, "acks"),
    ({"nemesis": ("kill", "flood")}, "flood"),
    ({"replication_factor": 4, "brokers": 3}, "replication_factor"),
    ({"min_insync": 3, "replication_factor": 2}, "min_insync"),
    ({"partitions": 0}, "partitions"),
    ({"rate": 0}, "rate"),
    ({"idempotence": True, "acks": "1"}, "idempotence"),
    ({"name": "../x"}, "name"),
])
def test_bad_specs_are_refused_naming_the_field(change, field):
    with pytest.raises(SpecError, match=field):
        TestSpec(**change)


def test_unknown_stored_fields_are_refused():
    with pytest.raises(SpecError, match="colour"):
        TestSpec.from_dict({**TestSpec().to_dict(), "colour": "red"})

