"""librdkafka, unmodified, through confluent-kafka and kcat, against a real broker process."""

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from cluster.deploy.broker_process import BrokerProcess
from tests.facilities import require_program


def consume_assigned(bootstrap: str, topic: str, expected: int, timeout_s: float = 30) -> list[tuple[int, bytes]]:
    return consume_until(bootstrap, topic, lambda seen: len(seen) >= expected, timeout_s)


def consume_until(bootstrap: str, topic: str, done: Callable[[list[tuple[int, bytes]]], bool],
                  timeout_s: float = 30) -> list[tuple[int, bytes]]:
    """Partition 0 from its start until done(what was read) or the timeout."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + timeout_s
    while not done(seen) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append((message.offset(), message.value()))
    consumer.close()
    return seen


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_idempotent_producer_with_every_codec(broker, codec):
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True,
                         "compression.type": codec, "linger.ms": 5})
    failures = []
    values = [(f"{codec}-{i}-" * 8).encode() for i in range(2000)]
    for value in values:
        producer.produce("codecs", value=value, on_delivery=lambda err, msg: err and failures.append(err))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []
    assert consume_assigned(broker.bootstrap, "codecs", len(values)) == list(enumerate(values))


def test_a_group_resumes_from_its_committed_offsets(broker):
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(100):
        producer.produce("resumable", value=b"%d" % i)
    producer.flush(10)
    config = {"bootstrap.servers": broker.bootstrap, "group.id": "resumers", "auto.offset.reset": "earliest",
              "enable.auto.commit": False}

    def consume(count: int) -> list[bytes]:
        consumer = Consumer(config)
        consumer.subscribe(["resumable"])
        taken: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(taken) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                taken.append(message.value())
                if len(taken) == count:
                    consumer.commit(message=message, asynchronous=False)
        consumer.close()
        return taken

    first = consume(40)
    second = consume(60)
    assert first + second == [b"%d" % i for i in range(100)]


def test_acknowledged_flushed_messages_survive_kill_9(tmp_path):
    broker = BrokerProcess(tmp_path / "data", **{"log.flush.interval.messages": 1}).start()
    acknowledged: list[bytes] = []
    stop = threading.Event()

    def produce() -> None:
        producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1,
                             "message.timeout.ms": 3000, "enable.idempotence": True})
        i = 0
        while not stop.is_set():
            producer.produce("durable", value=b"%d" % i,
                             on_delivery=lambda err, msg: err is None and acknowledged.append(msg.value()))
            producer.poll(0)
            i += 1
            time.sleep(0.0005)
        producer.flush(10)

    thread = threading.Thread(target=produce)
    thread.start()
    try:
        while len(acknowledged) < 2000:
            time.sleep(0.05)
        broker.kill()
        time.sleep(1)
        acknowledged_before_restart = set(acknowledged)
        broker.start()
        stop.set()
        thread.join(timeout=30)
        # The log may also keep records whose acknowledgement the kill cut off, so read until every
        # acknowledged value is seen (or the timeout), not just as many records as were acknowledged.
        wanted = set(acknowledged)
        read = consume_until(broker.bootstrap, "durable", lambda seen: wanted <= {value for _, value in seen})
        consumed = {value for _, value in read}
        assert acknowledged_before_restart <= consumed
        assert set(acknowledged) <= consumed
    finally:
        stop.set()
        broker.kill()


def test_kcat_lists_metadata_and_round_trips_messages(broker):
    kcat = require_program("kcat")
    lines = "".join(f"line {i}\n" for i in range(50))
    subprocess.run([kcat, "-b", broker.bootstrap, "-P", "-t", "kcat-topic"], input=lines.encode(), check=True,
                   timeout=60)
    metadata = subprocess.run([kcat, "-b", broker.bootstrap, "-L"], capture_output=True, text=True, check=True,
                              timeout=60).stdout
    assert 'topic "kcat-topic" with 1 partitions' in metadata
    assert "broker 0 at 127.0.0.1" in metadata
    consumed = subprocess.run([kcat, "-b", broker.bootstrap, "-C", "-t", "kcat-topic", "-o", "beginning", "-e"],
                              capture_output=True, text=True, check=True, timeout=60).stdout
    assert consumed == lines


def test_a_killed_member_is_expired_after_its_session_timeout_and_its_partitions_move(broker):
    """The survivor gets every partition once the dead member's session times out."""
    config = {"bootstrap.servers": broker.bootstrap, "group.id": "mortal", "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"}
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("mortal-topic", 4, 1)])["mortal-topic"].result(30)
    doomed = subprocess.Popen([sys.executable, "-c", (
        "import sys, confluent_kafka as ck\n"
        f"c = ck.Consumer({config!r}); c.subscribe(['mortal-topic'])\n"
        "while not c.assignment(): c.poll(0.2)\n"
        "print('assigned', flush=True)\n"
        "while True: c.poll(0.2)\n")], stdout=subprocess.PIPE)
    assert doomed.stdout.readline().strip() == b"assigned"
    survivor = Consumer(config)
    survivor.subscribe(["mortal-topic"])
    deadline = time.monotonic() + 60
    while len(survivor.assignment()) != 2 and time.monotonic() < deadline:
        survivor.poll(0.2)
    assert len(survivor.assignment()) == 2
    doomed.kill()
    doomed.wait()
    killed_at = time.monotonic()
    while len(survivor.assignment()) != 4 and time.monotonic() < deadline + 30:
        survivor.poll(0.2)
    assert sorted(tp.partition for tp in survivor.assignment()) == [0, 1, 2, 3]
    assert time.monotonic() - killed_at >= 5, "partitions moved before the session could have expired"
    survivor.close()
