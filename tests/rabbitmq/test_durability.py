"""What a classic queue keeps across a restart of its node, through the workload's own client: a durable queue's
persistent messages, and nothing transient, which is what the AMQP claim allows to be lost (checkers.claim.AmqpClaim)."""

from __future__ import annotations

import pytest

from checkers.claim import AmqpClaim
from cluster.deploy.deployment import ClusterSpec, deploy
from cluster.deploy.rabbitmq import unavailable_reason
from harness.spec import TestSpec
from logquake.registry import WORKLOADS
from tests.facilities import require
from workloads.amqp.client import declare_queue, open_client

QUEUES = {"kept": (True, True), "transient-messages": (True, False), "transient-queue": (False, True)}
"""Queue name: (durable, persistent)."""


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """A one-node cluster whose queues each got two confirmed messages before the node was killed and restarted."""
    require(unavailable_reason() is None, "rabbitmq-server", str(unavailable_reason()))
    deployment = deploy(ClusterSpec(keepers=0, brokers=1, system="rabbitmq"), "local",
                        tmp_path_factory.mktemp("rabbitmq-durability"))
    with deployment:
        specs = {name: _spec(name, durable, persistent) for name, (durable, persistent) in QUEUES.items()}
        for spec in specs.values():
            declare_queue(spec, deployment.bootstrap_servers)
            client = open_client(spec, deployment.bootstrap_servers, 0)
            try:
                assert [client.invoke({"f": "enqueue", "value": v})["type"] for v in (1, 2)] == ["ok", "ok"]
            finally:
                client.close()
        node = deployment.brokers[0]
        node.kill()
        node.start()
        node.wait_serving(120)
        yield {name: _drain(spec, deployment.bootstrap_servers) for name, spec in specs.items()}, specs


def _spec(queue: str, durable: bool, persistent: bool) -> TestSpec:
    return WORKLOADS.spec(system="rabbitmq", workload="amqp", brokers=1, queue_type="classic", amqp_queue=queue,
                          durable=durable, persistent=persistent, op_timeout=10)


def _drain(spec: TestSpec, addresses: str) -> dict:
    client = open_client(spec, addresses, 0)
    try:
        return client.invoke({"f": "drain", "value": None})
    finally:
        client.close()


def test_a_durable_classic_queue_keeps_its_confirmed_persistent_messages_and_the_claim_forbids_losing_them(
        restarted):
    drained, specs = restarted
    assert drained["kept"] == {"type": "ok", "value": [1, 2]}
    assert "lost" not in AmqpClaim.from_test(specs["kept"].to_dict()).allowed_anomalies()


def test_transient_messages_of_a_durable_classic_queue_are_gone_after_a_restart_as_the_claim_allows(restarted):
    drained, specs = restarted
    assert drained["transient-messages"] == {"type": "ok", "value": []}
    assert "lost" in AmqpClaim.from_test(specs["transient-messages"].to_dict()).allowed_anomalies()


def test_a_transient_classic_queue_is_gone_after_a_restart_as_the_claim_allows(restarted):
    drained, specs = restarted
    gone = drained["transient-queue"]
    assert gone["type"] == "info" and gone["value"] == [] and "NOT_FOUND" in gone["error"]
    assert "lost" in AmqpClaim.from_test(specs["transient-queue"].to_dict()).allowed_anomalies()
