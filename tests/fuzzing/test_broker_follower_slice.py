"""A seeded slice of the follower-fetch campaign (`python -m fuzzing broker-follower`): Fetch,
OffsetForLeaderEpoch and ListOffsets under the follower's id and others, at a leader broker a real
follower replicates. Answered or refused as Kafka does, nothing internal logged on either broker, the
follower's copy equal to the leader's, the ISR whole, acks=all writes on the follower when acknowledged."""

import pytest

from fuzzing.broker_follower_target import BrokerFollowerTarget
from fuzzing.campaign import run
from tests.fuzzing.slice import SLICE_SEED

FOLLOWER_SLICE_FRAMES = 1_500
"""About 20 s of frames after about 30 s bringing up a keeper and two brokers and preloading the partitions."""


@pytest.mark.slow
def test_seeded_slice_of_follower_fetch_fuzzing_finds_nothing(tmp_path) -> None:
    with BrokerFollowerTarget(tmp_path) as target:
        report = run(target, FOLLOWER_SLICE_FRAMES, SLICE_SEED, client_every=FOLLOWER_SLICE_FRAMES // 2)
    assert report.failures == [], "\n".join(report.lines())
    assert report.exit_code is None
    assert report.frames == FOLLOWER_SLICE_FRAMES and report.client_checks == 3
