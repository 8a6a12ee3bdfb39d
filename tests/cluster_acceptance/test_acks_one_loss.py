"""acks=1 loses acknowledged writes, deterministically; acks=all under the same schedule does not.

The schedule: both followers are frozen (SIGSTOP) while still in the ISR, the leader alone takes
writes, the leader is SIGKILLed and the followers thawed. A follower becomes leader without the
leader's last writes, and the old leader truncates to it when it returns. acks=1 acknowledged those
writes (Kafka's documented trade-off); acks=all could not have, because the high watermark never
passed them. The followers stay frozen for a few seconds only, well inside their keeper sessions,
so the controller still counts them in the ISR (replica.lag.time.max.ms is a minute here).
"""

from __future__ import annotations

import time

from cluster.broker.metadata.partition_state import NO_LEADER
from tests.live_cluster import Delivery, LiveCluster, TrackedProducer, read_partition

FETCH_WAIT_GRACE_S = 1.5
"""A follower's fetch parked at the leader is answered within replica.fetch.wait.max.ms (500 ms by default)
even without data; after this long none is left for the leader to answer with the writes that follow, which
a frozen follower would otherwise find in its socket once thawed."""
ACKS_ALL_PARKED_S = 1.0
"""Long enough for the acks=all request to reach the leader and wait there for followers that never fetch."""
PRODUCER = {"retries": 0, "enable.idempotence": False, "message.timeout.ms": 10_000, "linger.ms": 0}


def test_acks_one_acknowledges_writes_that_a_leader_change_then_loses(cluster: LiveCluster) -> None:
    topic = "isolated-leader-acks-1"
    deliveries, survivors = _isolated_leader_schedule(cluster, topic, "1")
    acknowledged = [d for d in deliveries if d.acknowledged]
    assert len(acknowledged) == len(deliveries), f"acks=1 to a live leader failed: {deliveries}"
    lost = [d.value for d in acknowledged if d.value not in survivors]
    assert lost == [d.value for d in acknowledged], f"expected every acknowledged write lost, kept {survivors}"


def test_acks_all_acknowledges_nothing_that_the_same_schedule_loses(cluster: LiveCluster) -> None:
    topic = "isolated-leader-acks-all"
    deliveries, survivors = _isolated_leader_schedule(cluster, topic, "all")
    lost = [d.value for d in deliveries if d.acknowledged and d.value not in survivors]
    assert lost == [], f"acks=all acknowledged writes that were then lost: {lost}"


def _isolated_leader_schedule(cluster: LiveCluster, topic: str, acks: str) -> tuple[list[Delivery], set[str]]:
    """Runs the schedule on a fresh topic; returns the delivery reports of the isolated writes and every value
    the partition holds once all three replicas are in sync again (which must include the writes acknowledged
    with acks=all before the isolation, whatever the acks level). The producer knows only the leader (a frozen
    bootstrap broker would swallow its Metadata request) and is connected before the followers freeze."""
    view = cluster.create_topic(topic, 1, {"min.insync.replicas": "2"})
    leader = cluster.state(view, topic, 0).leader
    followers = [cluster.broker(b) for b in cluster.broker_ids - {leader}]
    baseline = TrackedProducer(cluster.bootstrap, acks="all")
    baseline.send(topic, [f"baseline-{i}" for i in range(5)])
    assert all(d.acknowledged for d in baseline.finish())

    producer = TrackedProducer(cluster.broker(leader).address, acks=acks, **PRODUCER)
    producer.send(topic, ["warm-up"])
    producer.finish()
    producer.deliveries.clear()
    for follower in followers:
        follower.pause()
    try:
        time.sleep(FETCH_WAIT_GRACE_S)
        producer.send(topic, [f"isolated-{i}" for i in range(10)])
        if acks == "1":
            producer.finish(timeout=5)
        else:
            time.sleep(ACKS_ALL_PARKED_S)
        cluster.broker(leader).kill()
    finally:
        for follower in followers:
            follower.resume()
    deliveries = producer.finish()
    cluster.wait_view(lambda v: cluster.state(v, topic, 0).leader not in (leader, NO_LEADER),
                      f"a follower of {topic}-0 elected after leader {leader} was killed")
    cluster.restore()
    cluster.wait_view(lambda v: len(cluster.state(v, topic, 0).isr) == 3, f"{topic}-0 fully in sync again")
    baseline_values = {f"baseline-{i}" for i in range(5)}
    return deliveries, {value for _, value in read_partition(cluster.bootstrap, topic, 0, must_hold=baseline_values)}
