"""A replica whose segment rotted while it was down: it cuts its log at the damage when it starts,
fetches the rest from its leader, and once it leads serves every acknowledged record and nothing else."""

from __future__ import annotations

import time

from cluster.broker.log.dump import FramedBatch, walk
from tests.live_cluster import FAILOVER_TIMEOUT, TrackedProducer, read_partition

TOPIC = "rotted"


def flip_byte(path, position: int) -> None:
    with open(path, "r+b") as file:
        file.seek(position)
        byte = file.read(1)[0]
        file.seek(position)
        file.write(bytes([byte ^ 0x10]))


def test_a_follower_cuts_a_corrupt_closed_segment_refetches_and_then_leads_serving_no_damage(cluster):
    view = cluster.create_topic(TOPIC, 1, {"segment.bytes": "4096"})
    producer = TrackedProducer(cluster.bootstrap, acks="all", **{"enable.idempotence": True, "batch.num.messages": 1})
    producer.send(TOPIC, [f"{i:04d}" + "." * 200 for i in range(200)])
    acknowledged = [delivery.value for delivery in producer.finish() if delivery.acknowledged]
    assert len(acknowledged) == 200
    follower = next(broker for broker in sorted(cluster.broker_ids) if broker != cluster.state(view, TOPIC, 0).leader)
    node = cluster.broker(follower)

    node.stop()
    segments = sorted((node.directory / "data" / f"{TOPIC}-0").glob("*.log"))
    assert len(segments) > 3
    victim = segments[1]
    batches = list(walk(victim.read_bytes()))
    flip_byte(victim, batches[len(batches) // 2].position + 100)  # inside a batch's records, under its CRC
    assert not all(isinstance(entry, FramedBatch) and entry.valid for entry in walk(victim.read_bytes()))
    node.start()
    node.wait_serving(FAILOVER_TIMEOUT)

    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while "the log is truncated there" not in node.log_text():
        assert time.monotonic() < deadline, f"broker {follower} did not open {TOPIC}-0:\n{node.log_tail()}"
        time.sleep(0.2)
    assert victim.name in node.log_text()
    cluster.wait_in_sync(TOPIC, 1)
    for other in sorted(cluster.broker_ids - {follower}):
        cluster.broker(other).stop()
    cluster.wait_view(lambda v: v.states[(TOPIC, 0)].leader == follower, f"broker {follower} leads {TOPIC}-0")

    records = read_partition(node.address, TOPIC, 0, must_hold=set(acknowledged))
    assert [value for _, value in records] == acknowledged
    assert [offset for offset, _ in records] == list(range(len(acknowledged)))
