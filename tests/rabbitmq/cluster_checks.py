"""What every backend's RabbitMQ cluster must do, checked through the deployment's node handles and a real client."""

from __future__ import annotations

import pika

from cluster.deploy.deployment import Deployment
from cluster.deploy.probes import accepts_connections


def node_names(cluster: Deployment) -> set[str]:
    assert cluster.rabbitmq is not None
    return {cluster.rabbitmq.identity(node.plan).node_name for node in cluster.brokers}


def check_every_node_sees_all_running(cluster: Deployment) -> None:
    assert cluster.rabbitmq is not None
    for node in cluster.brokers:
        assert cluster.rabbitmq.running_members(node) == node_names(cluster)


def check_every_node_ticks_at(cluster: Deployment, seconds: int) -> None:
    """The tick time the run asked for is the one each running VM uses (so partitions are noticed after it)."""
    assert cluster.rabbitmq is not None
    for node in cluster.brokers:
        assert cluster.rabbitmq.ctl(node, "eval", "net_kernel:get_net_ticktime().").strip() == str(seconds)


def check_a_confirmed_message_crosses_nodes(cluster: Deployment, queue: str) -> None:
    """Published with a confirm through the first node into a quorum queue, got through the second."""
    first, second = (pika.BlockingConnection(pika.ConnectionParameters(node.host, node.port))
                     for node in cluster.brokers[:2])
    try:
        publisher = first.channel()
        publisher.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        publisher.confirm_delivery()
        publisher.basic_publish("", queue, b"42", pika.BasicProperties(delivery_mode=2), mandatory=True)
        method, _, body = second.channel().basic_get(queue, auto_ack=True)
        assert method is not None and body == b"42"
    finally:
        first.close()
        second.close()


def check_a_killed_node_rejoins(cluster: Deployment) -> None:
    assert cluster.rabbitmq is not None
    node = cluster.brokers[2]
    node.kill()
    assert not node.is_running()
    assert not accepts_connections(node.host, node.port)
    gone = cluster.rabbitmq.identity(node.plan).node_name
    assert cluster.rabbitmq.running_members(cluster.brokers[0]) == node_names(cluster) - {gone}
    node.start()
    node.wait_serving(120)
    assert cluster.rabbitmq.running_members(cluster.brokers[0]) == node_names(cluster)
