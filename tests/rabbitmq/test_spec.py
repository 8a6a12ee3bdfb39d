"""`--system rabbitmq` as a run's spec: its defaults, and the bad input refused before anything is deployed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harness.spec import SpecError
from logquake.commands import make_run_command
from logquake.registry import WORKLOADS


def test_a_rabbitmq_run_defaults_to_the_amqp_workload_a_quorum_queue_and_no_keepers():
    spec = WORKLOADS.spec(system="rabbitmq", keepers=None, workload=None)
    assert (spec.workload, spec.keepers, spec.brokers) == ("amqp", 0, 3)
    assert spec.to_dict()["queue_type"] == "quorum" and spec.partition_handling == "ignore"
    assert spec.net_ticktime == 10
    assert (spec.to_dict()["durable"], spec.to_dict()["persistent"]) == (True, True)
    assert spec.name == "amqp-none-quorum"


def test_a_kafka_run_keeps_its_defaults():
    spec = WORKLOADS.spec(keepers=None, workload=None)
    assert (spec.system, spec.workload, spec.keepers) == ("logquake", "queue", 3)


@pytest.mark.parametrize("values, message", [
    ({"queue_type": "lazy"}, "queue_type must be one of quorum, classic, classic-mirrored, not 'lazy'"),
    ({"partition_handling": "pause_majority"},
     "partition_handling must be one of ignore, pause_minority, autoheal, not 'pause_majority'"),
    ({"keepers": 3}, "a RabbitMQ cluster has no keepers: keepers must be 0, not 3"),
    ({"durable": False}, "durable must be true for a quorum queue: RabbitMQ has no transient quorum queues"),
    ({"net_ticktime": 0}, "net_ticktime must be a whole number of seconds, at least 1, not 0"),
    ({"net_ticktime": 7.5}, "net_ticktime must be a whole number of seconds, at least 1, not 7.5"),
    ({"workload": "queue"}, "the queue workload runs against logquake, not system rabbitmq"),
    ({"nemesis": ("kill",), "nemesis_targets": ("controller",)}, "controller not offered by the amqp workload"),
])
def test_bad_input_for_a_rabbitmq_run_is_refused_with_a_clear_error(values, message):
    with pytest.raises(SpecError, match=message):
        WORKLOADS.spec(**{"system": "rabbitmq", **values})


def test_the_amqp_workload_needs_rabbitmq():
    with pytest.raises(SpecError, match="the amqp workload runs against rabbitmq, not system logquake"):
        WORKLOADS.spec(workload="amqp")


def test_the_command_line_refuses_a_queue_type_rabbitmq_does_not_have(tmp_path):
    result = CliRunner().invoke(make_run_command(WORKLOADS), ["--system", "rabbitmq", "--queue-type", "lazy",
                                                              "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "'lazy' is not one of 'quorum', 'classic', 'classic-mirrored'" in result.output
    assert not any(tmp_path.iterdir())


def test_the_command_line_refuses_a_tick_time_below_a_second_before_anything_is_deployed(tmp_path):
    result = CliRunner().invoke(make_run_command(WORKLOADS), ["--system", "rabbitmq", "--net-ticktime", "0",
                                                              "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "net_ticktime must be a whole number of seconds, at least 1, not 0" in result.output
    assert not any(tmp_path.iterdir())
