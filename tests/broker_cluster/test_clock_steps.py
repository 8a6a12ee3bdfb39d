"""Two brokers on one keeper, in this process, whose wall clocks step an hour each way: the ISR does not
shrink and acks=all writes go on, because replication's timeouts (replica.lag.time.max.ms, produce and
fetch waits) run on the monotonic clock, which a step leaves alone."""

from __future__ import annotations

import time
from contextlib import ExitStack

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from cluster.broker.metadata.partition_state import PartitionState
from cluster.deploy.keeper_ensemble import KeeperEnsemble
from cluster.deploy.status import read_view
from tests.broker.in_process import BrokerThread, SteppedClock
from tests.polling import WAIT_S, wait_until

HOUR_MS = 3_600_000
LAG_MS = 10_000
"""Far below the steps, far above what a loaded machine makes a follower lag."""
STEADY_S = 1.5


def test_wall_clock_steps_on_both_brokers_shrink_no_isr_and_fail_no_acks_all_write(tmp_path):
    clocks = {1: SteppedClock(), 2: SteppedClock()}
    with KeeperEnsemble("keeper", 1, tmp_path / "keeper") as keeper, ExitStack() as stack:
        brokers = [stack.enter_context(BrokerThread(tmp_path / f"broker-{broker_id}", clock, **{
            "broker.id": str(broker_id), "zookeeper.connect": keeper.connect_string,
            "zookeeper.session.timeout.ms": "6000", "replica.lag.time.max.ms": str(LAG_MS),
            "controlled.shutdown.timeout.ms": "2000",
        })) for broker_id, clock in clocks.items()]
        bootstrap = ",".join(broker.bootstrap for broker in brokers)
        wait_until(lambda: len(read_view(keeper.connect_string).live) == 2, "both brokers registered")
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic("steady", 1, 2, topic_configs={"min.insync.replicas": "2"})])
        admin.close()
        before = wait_until(lambda: in_sync(keeper.connect_string), "an ISR of both brokers")
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0)

        sent = []
        for step in (HOUR_MS, -2 * HOUR_MS, HOUR_MS):
            for clock in clocks.values():
                clock.step(step)
            stepped_at = time.monotonic()
            while time.monotonic() < stepped_at + STEADY_S:  # a lag check on wall time would shrink the ISR at once
                sent.append(producer.send("steady", value=b"v").get(timeout=WAIT_S).offset)
                time.sleep(0.05)
        producer.close()

        after = read_view(keeper.connect_string).states[("steady", 0)]
        assert (after.isr, after.version) == (before.isr, before.version), "no ISR change was written"
        assert sent == list(range(len(sent))), "every acks=all write went in, in order"


def in_sync(connect: str) -> PartitionState | None:
    state = read_view(connect).states.get(("steady", 0))
    return state if state is not None and state.leader >= 0 and len(state.isr) == 2 else None
