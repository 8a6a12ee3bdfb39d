"""What every backend's node handle must do, checked the same way on docker and local nodes."""

from __future__ import annotations

from kazoo.client import KazooClient

from cluster.deploy.probes import accepts_connections, keeper_mode
from tests.deploy.kafka_io import answers_metadata, consume, produce


def check_pause_silences_until_resumed(broker, bootstrap: str) -> None:
    broker.pause()
    try:
        assert broker.is_paused() and broker.is_running()
        assert not answers_metadata(bootstrap)
    finally:
        broker.resume()
    assert not broker.is_paused()
    assert answers_metadata(bootstrap)


def check_kill_restarts_with_data(broker, bootstrap: str, topic: str) -> None:
    produce(bootstrap, topic, ["before"])
    broker.kill()
    assert not broker.is_running()
    assert not accepts_connections(broker.host, broker.port)
    broker.start()
    broker.wait_serving()
    produce(bootstrap, topic, ["after"])
    assert consume(bootstrap, topic, 2) == ["before", "after"]


def check_graceful_stop_and_restart(broker) -> None:
    broker.stop(timeout=20)
    assert not broker.is_running()
    assert "shutting down" in broker.log_text()
    broker.start()
    broker.wait_serving()


def check_keeper_ensemble_serves(deployment) -> None:
    """Three keepers elect one leader, and a kazoo client on the host reads its own write."""
    modes = sorted(keeper_mode(k.host, k.port) or "down" for k in deployment.keepers)
    assert modes == ["follower", "follower", "leader"]
    client = KazooClient(hosts=deployment.keeper_connect)
    client.start(timeout=20)
    try:
        client.create("/deployed", b"yes")
        assert client.get("/deployed")[0] == b"yes"
    finally:
        client.stop()
        client.close()
