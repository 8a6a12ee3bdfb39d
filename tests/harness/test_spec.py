"""Specs as the registry makes them: each workload's options and rules, the run's own fields, and test.json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from logquake.commands import run_command
from logquake.registry import WORKLOADS
from workloads.queue.options import KafkaOptions
from workloads.register.options import RegisterOptions

KAFKA = {
    "acks": st.sampled_from(["0", "1", "all"]),
    "retries": st.integers(0, 10),
    "partitions": st.integers(1, 12),
    "mode": st.sampled_from(["assign", "subscribe"]),
    "client": st.sampled_from(["confluent-kafka", "kafka-python"]),
    "nemesis_targets": st.lists(st.sampled_from(["one", "majority", "partition-leader"]), unique=True).map(tuple),
}
WORKLOAD_VALUES = {
    "queue": st.fixed_dictionaries({"workload": st.just("queue"), **KAFKA}),
    "log": st.fixed_dictionaries({"workload": st.just("log"), **KAFKA, "acks": st.just("all"), "retries": st.just(0)}),
    "register": st.fixed_dictionaries({
        "workload": st.just("register"), "brokers": st.just(0), "register_keys": st.integers(1, 9),
        "register_sync_reads": st.booleans(), "target": st.sampled_from(["keeper", "zookeeper"]),
        "nemesis_targets": st.lists(st.sampled_from(["one", "majority", "keeper-leader"]), unique=True).map(tuple)}),
}
RUN_VALUES = st.fixed_dictionaries({
    "name": st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True) | st.none(),
    "nemesis": st.lists(st.sampled_from(["kill", "pause", "restart", "partition"]), unique=True).map(tuple),
    "broker_overrides": st.dictionaries(st.sampled_from(["log.segment.bytes", "replica.lag.time.max.ms"]),
                                        st.integers(1, 10**6).map(str)),
    "keeper_overrides": st.dictionaries(st.sampled_from(["forceSync", "snapCount"]), st.sampled_from(["no", "7"])),
    "time_limit": st.floats(1, 600),
    "max_unavailable": st.none() | st.floats(0.1, 60),
    "seed": st.integers(0, 2**32),
})
values = st.builds(lambda run, own: {**run, **own}, RUN_VALUES, st.sampled_from(sorted(WORKLOAD_VALUES)).flatmap(
    WORKLOAD_VALUES.__getitem__))


@settings(max_examples=60)
@given(values)
def test_a_spec_round_trips_through_test_json(given_values: dict[str, Any]) -> None:
    spec = WORKLOADS.spec(**given_values)
    assert type(spec.options) is WORKLOADS[spec.workload].options
    assert WORKLOADS.spec_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_test_json_holds_the_run_fields_and_the_workloads_own_options() -> None:
    queue = WORKLOADS.spec(acks="1", register_keys=9).to_dict()
    assert queue["acks"] == "1" and queue["replication_factor"] == 3 and "register_keys" not in queue
    register = WORKLOADS.spec(workload="register", brokers=0, register_keys=9, acks="1").to_dict()
    assert register["register_keys"] == 9 and "acks" not in register
    assert {"name", "nemesis", "brokers", "keepers", "target", "backend", "seed"} <= register.keys()


def test_default_names_tell_runs_apart_by_faults_and_the_setting_that_decides_the_claim() -> None:
    assert WORKLOADS.spec(nemesis=("kill", "pause"), acks="1").name == "queue-kill-pause-acks1"
    assert WORKLOADS.spec(workload="register", brokers=0, target="zookeeper").name == "register-none-zookeeper"
    assert WORKLOADS.spec(name="mine").name == "mine"


@pytest.mark.parametrize("change, message", [
    ({"acks": "2"}, "acks must be one of 0, 1, all"),
    ({"acks": 1}, "acks must be one of"),
    ({"partitions": "3"}, "partitions must be a int"),
    ({"nemesis": ("kill", "flood")}, "nemesis: unknown fault(s) flood"),
    ({"nemesis_targets": ("keeper-leader",)}, "nemesis_targets: keeper-leader not offered by the queue workload"),
    ({"replication_factor": 4, "brokers": 3}, "replication_factor 4 exceeds brokers 3"),
    ({"min_insync": 3, "replication_factor": 2}, "min_insync 3 exceeds replication_factor 2"),
    ({"partitions": 0}, "partitions must be at least 1"),
    ({"retries": -1}, "retries must be at least 0"),
    ({"rate": 0}, "rate must be positive"),
    ({"idempotence": True, "acks": "1"}, "idempotence needs acks all"),
    ({"name": "../x"}, "name '../x' cannot name a store directory"),
    ({"workload": "etcd"}, "workload must be one of queue, register, log"),
    ({"target": "etcd"}, "target must be one of keeper, zookeeper"),
    ({"colour": "red"}, "unknown spec field(s): colour"),
    ({"nemesis": ("slow-disk",), "nemesis_options": {"fsync-delay-ms": "x"}},
     "nemesis_options: fsync-delay-ms='x': must be a number"),
    ({"nemesis_options": {"bitflips": "3"}}, "nemesis_options: bitflips is an option of the corrupt-file fault"),
    ({"nemesis": ("lose-unsynced",), "keepers": 0, "nemesis_targets": ("all-keepers",)},
     "nemesis_targets: all-keepers is every keeper node, and this run has none"),
    ({"nemesis": ("corrupt-file",), "broker_overrides": {"log.dirs": "/elsewhere"}},
     "log.dirs: disk faults act on the data directory the deployment gives each node"),
    ({"nemesis": ("kill",), "nemesis_targets": ("all-brokers",)},
     "nemesis_targets: all-brokers not offered by the queue workload"),
    ({"max_unavailable": 0}, "max_unavailable must be a positive number of seconds, not 0"),
    ({"max_unavailable": "5"}, "max_unavailable must be a positive number of seconds, not '5'"),
])
def test_bad_specs_are_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}".replace("(", r"\(").replace(")", r"\)")):
        WORKLOADS.spec(**change)


def test_register_runs_on_keepers_alone_and_queue_needs_a_broker() -> None:
    assert WORKLOADS.spec(workload="register", brokers=0, keepers=3).brokers == 0
    with pytest.raises(ValueError, match="the queue workload needs at least 1 broker"):
        WORKLOADS.spec(workload="queue", brokers=0)
    with pytest.raises(ValueError, match="the register workload talks to the keepers: keepers must be at least 1"):
        WORKLOADS.spec(workload="register", brokers=0, keepers=0)


def test_zookeeper_target_needs_keeper_nodes() -> None:
    assert WORKLOADS.spec(workload="register", brokers=0, target="zookeeper").target == "zookeeper"
    with pytest.raises(ValueError, match="target zookeeper runs on the keeper nodes"):
        WORKLOADS.spec(brokers=1, keepers=0, replication_factor=1, min_insync=1, target="zookeeper")


@pytest.mark.parametrize("overrides", [{"acks": "1"}, {"retries": 3}])
def test_log_needs_acks_all_and_no_duplicating_retries(overrides: dict[str, Any]) -> None:
    one_broker = dict(workload="log", brokers=1, keepers=0, replication_factor=1, min_insync=1)
    assert WORKLOADS.spec(**one_broker, retries=3, idempotence=True).workload == "log"
    with pytest.raises(ValueError, match="the log workload .* needs acks all"):
        WORKLOADS.spec(**one_broker, **overrides)


def test_stored_specs_of_every_age_load() -> None:
    """test.json from before --target and the register options, and from when every run stored every option."""
    data = WORKLOADS.spec().to_dict()
    del data["target"]
    assert WORKLOADS.spec_from_dict(data) == WORKLOADS.spec()
    older = {**WORKLOADS.spec(workload="register", brokers=0).to_dict(), "acks": "all", "topic": "queue"}
    del older["register_keys"]
    assert WORKLOADS.spec_from_dict(older).options == RegisterOptions()
    assert WORKLOADS.spec_from_dict({**data, "register_keys": 3}).options == KafkaOptions()


def test_the_command_line_refuses_a_register_run_without_keepers(tmp_path) -> None:
    result = CliRunner().invoke(run_command, ["--workload", "register", "--brokers", "0", "--keepers", "0",
                                              "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "the register workload talks to the keepers: keepers must be at least 1" in result.output
    assert not any(tmp_path.iterdir())
