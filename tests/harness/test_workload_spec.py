"""Which specs the register and log workloads accept, and the clear error for those they cannot run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from logquake.commands import run_command
from logquake.spec import SpecError, TestSpec


def test_register_runs_on_keepers_alone_and_queue_needs_a_broker():
    assert TestSpec(workload="register", brokers=0, keepers=3).brokers == 0
    with pytest.raises(SpecError, match="needs at least 1 broker"):
        TestSpec(workload="queue", brokers=0)
    with pytest.raises(SpecError, match="keepers must be at least 1"):
        TestSpec(workload="register", brokers=0, keepers=0)


def test_zookeeper_target_needs_keeper_nodes_and_is_a_known_target():
    assert TestSpec(workload="register", brokers=0, target="zookeeper").target == "zookeeper"
    with pytest.raises(SpecError, match="target zookeeper runs on the keeper nodes"):
        TestSpec(brokers=1, keepers=0, replication_factor=1, min_insync=1, target="zookeeper")
    with pytest.raises(SpecError, match="target must be one of keeper, zookeeper"):
        TestSpec(target="etcd")


@pytest.mark.parametrize("overrides", [{"acks": "1"}, {"retries": 3}])
def test_log_needs_acks_all_and_no_duplicating_retries(overrides):
    one_broker = dict(workload="log", brokers=1, keepers=0, replication_factor=1, min_insync=1)
    assert TestSpec(**one_broker, retries=3, idempotence=True).workload == "log"
    with pytest.raises(SpecError, match="the log workload .* needs acks all"):
        TestSpec(**one_broker, **overrides)


def test_old_specs_without_the_new_fields_still_load():
    data = TestSpec().to_dict()
    for name in ("target", "register_keys", "register_sync_reads"):
        del data[name]
    assert TestSpec.from_dict(data) == TestSpec()


def test_the_command_line_refuses_a_register_run_without_keepers(tmp_path):
    result = CliRunner().invoke(run_command, ["--workload", "register", "--brokers", "0", "--keepers", "0",
                                              "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "the register workload talks to the keepers: keepers must be at least 1" in result.output
    assert not any(tmp_path.iterdir())
