"""A running cluster of keepers and 3 brokers as real local processes, as the replicated-broker tests see it:
node handles to kill, pause and restart, the control plane's view read from keeper, and waits that poll
until the cluster says what a test expects (a loaded 2-core machine makes every fixed sleep a flaky test).

`live_cluster(...)` gives a test module its cluster; `whole_again` (import it into a conftest) makes it
whole after every test, so the tests of a module can share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from cluster.broker.controller.view import ClusterView
from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy
from cluster.deploy.node import Node
from cluster.deploy.status import describe, read_view

FAILOVER_TIMEOUT = 60.0
"""Session expiry (6 s), a controller election and a leader election, on a machine other tests load too."""

BROKER_OVERRIDES = {
    "zookeeper.session.timeout.ms": "6000",
    "replica.fetch.wait.max.ms": "500",
    "replica.lag.time.max.ms": "60000",
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.num.partitions": "5",
    "controlled.shutdown.timeout.ms": "2000",
}
"""A killed broker's session ends after 6 s (Kafka's 18 s default would triple every failover); a follower
leaves the ISR only when its broker's session ends, never for lagging while another test's load slows it,
which test_acks_one_loss depends on (as on parked fetches being answered within 500 ms); few offsets
partitions, each of which is replicated three times; the last broker to stop at teardown has nobody to
hand its leaderships to, and waits 2 s for that instead of 30."""


@dataclass(frozen=True)
class Delivery:
    value: str
    partition: int
    offset: int
    error: KafkaError | None

    @property
    def acknowledged(self) -> bool:
        return self.error is None


class LiveCluster:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    @property
    def bootstrap(self) -> str:
        return self.deployment.bootstrap_servers

    @property
    def broker_ids(self) -> set[int]:
        return {broker.node_id for broker in self.deployment.brokers}

    def broker(self, broker_id: int) -> Node:
        (node,) = [broker for broker in self.deployment.brokers if broker.node_id == broker_id]
        return node

    def view(self) -> ClusterView | None:
        """What keeper says now; None while keeper cannot be read (a test waits for it like for anything else)."""
        try:
            return read_view(self.deployment.keeper_connect, timeout_s=10)
        except (KazooException, KazooTimeoutError):
            return None

    def wait_view(self, holds: Callable[[ClusterView], bool], what: str, timeout: float = FAILOVER_TIMEOUT) -> ClusterView:
        deadline = time.monotonic() + timeout
        view = None
        while time.monotonic() < deadline:
            view = self.view()
            if view is not None and holds(view):
                return view
            time.sleep(0.5)
        shown = "\n".join(describe(view)) if view else "(keeper unreadable)"
        raise AssertionError(f"not within {timeout:g}s: {what}\nlast view:\n{shown}\n{self.broker_logs()}")

    def current_view(self) -> ClusterView:
        return self.wait_view(lambda view: True, "keeper readable")

    def state(self, view: ClusterView, topic: str, partition: int) -> PartitionState:
        state = view.states.get((topic, partition))
        assert state is not None, f"{topic}-{partition} has no state"
        return state

    def create_topic(self, name: str, partitions: int, configs: dict[str, str] | None = None) -> ClusterView:
        """Replication factor 3, and back once every partition has a leader and all three replicas in sync."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        future = admin.create_topics([NewTopic(name, partitions, 3, config=configs or {})], operation_timeout=30)[name]
        future.result(timeout=60)
        return self.wait_in_sync(name, partitions)

    def wait_in_sync(self, topic: str, partitions: int) -> ClusterView:
        return self.wait_view(lambda view: all(_fully_in_sync(view, topic, p) for p in range(partitions)),
                              f"{topic}'s {partitions} partition(s) led with 3 in-sync replicas")

    def restore(self) -> None:
        """Every broker running, unpaused and registered again: what the next test starts from."""
        for broker in self.deployment.brokers:
            if broker.is_paused():
                broker.resume()
            if not broker.is_running():
                broker.start()
        for broker in self.deployment.brokers:
            broker.wait_serving(FAILOVER_TIMEOUT)
        self.wait_view(lambda view: view.live == self.broker_ids and view.controller is not None,
                       "all brokers registered and a controller elected")

    def broker_logs(self, lines: int = 25) -> str:
        return "\n".join(f"--- {b.name} (broker {b.node_id}):\n{b.log_tail(lines)}" for b in self.deployment.brokers)


@contextmanager
def live_cluster(work_dir: Path, keepers: int, broker_overrides: dict[str, str]) -> Iterator[LiveCluster]:
    """Keepers and 3 brokers up (every broker registered, a controller elected) until the block ends."""
    deployment = deploy(ClusterSpec(keepers=keepers, brokers=3, broker_overrides=broker_overrides), "local", work_dir)
    with deployment:
        live = LiveCluster(deployment)
        live.restore()
        yield live


@pytest.fixture(autouse=True)
def whole_again(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "cluster" in request.fixturenames:
        request.getfixturevalue("cluster").restore()


def _fully_in_sync(view: ClusterView, topic: str, partition: int) -> bool:
    state = view.states.get((topic, partition))
    return state is not None and state.leader != NO_LEADER and len(state.isr) == 3


class TrackedProducer:
    """A confluent-kafka producer that keeps every delivery report: sends return at once, `finish` waits."""

    def __init__(self, bootstrap: str, **config: object) -> None:
        self.deliveries: list[Delivery] = []
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})

    def send(self, topic: str, values: list[str], partitions: int = 1) -> None:
        """Value i goes to partition i % partitions, so every partition gets its share."""
        for index, value in enumerate(values):
            self._producer.produce(topic, value.encode(), partition=index % partitions, on_delivery=self._report)
            self._producer.poll(0)

    def finish(self, timeout: float = 120) -> list[Delivery]:
        remaining = self._producer.flush(timeout)
        assert remaining == 0, f"{remaining} message(s) without a delivery report after {timeout:g}s"
        return self.deliveries

    def _report(self, error: KafkaError | None, message: Message) -> None:
        self.deliveries.append(Delivery(message.value().decode(), message.partition(), message.offset(), error))


def read_partition(bootstrap: str, topic: str, partition: int, must_hold: set[str],
                   timeout: float = 60) -> list[tuple[int, str]]:
    """Every (offset, value) of a partition from its start, read until every value of must_hold was seen and the
    reader reached the high watermark. The high watermark is asked again while reading: a broker that has just
    become leader may not know it yet (OFFSET_NOT_AVAILABLE, Kafka's answer then) until its followers have
    fetched from it."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "acceptance-reader", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        records: list[tuple[int, str]] = []
        high, deadline = 0, time.monotonic() + timeout
        while not (must_hold <= {value for _, value in records} and (records[-1][0] + 1 if records else 0) >= high):
            assert time.monotonic() < deadline, (f"{topic}-{partition}: read {records} up to high watermark {high} "
                                                 f"in {timeout:g}s, missing {must_hold - {v for _, v in records}}")
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                records.append((message.offset(), message.value().decode()))
            elif message is None:
                high = _high_watermark(consumer, TopicPartition(topic, partition), high)
        return records
    finally:
        consumer.close()


def _high_watermark(consumer: Consumer, partition: TopicPartition, last_known: int) -> int:
    """The partition's high watermark now, or the last one known while the leader cannot tell: librdkafka
    raises OFFSET_NOT_AVAILABLE instead of retrying it, and leadership moving answers with retriable errors."""
    try:
        return consumer.get_watermark_offsets(partition, timeout=10, cached=False)[1]
    except KafkaException as exception:
        error = exception.args[0]
        if not (error.retriable() or error.code() in (KafkaError.OFFSET_NOT_AVAILABLE, KafkaError._TIMED_OUT)):
            raise
        return last_known
