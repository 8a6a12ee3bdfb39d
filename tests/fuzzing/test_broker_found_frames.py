"""Frames the broker fuzzer found failures with, each against a fresh broker, judged as the fuzzer judges.

A fresh broker per frame: several needed its state at the time (no __consumer_offsets yet)."""

from __future__ import annotations

import random

import pytest

from fuzzing.broker_target import BrokerTarget
from fuzzing.cases import Case

FOUND = {
    # ListOffsets for a timestamp below -1 on an empty partition read a batch header past the end of its
    # empty segment (struct.error): an internal error and a closed connection instead of offset -1.
    "list-offsets-v5-negative-timestamp-empty-partition":
        "0000003f00020005000000000000000000000000000001000666757a7a2d3000000002000000000000000000000000000000000000000000000000ff00000000000000",
    # Answered NOT_COORDINATOR (no offsets topic yet) with a null protocol_name, which JoinGroup v0-6 cannot
    # carry: the response did not encode and the connection closed, logged as the client's malformed bytes.
    "join-group-v5-not-coordinator":
        "0000003b000b000500000000ffff000c00000000000000000000000000000000000000000000000c0000000000000000000000000005000000000000000000",
}


@pytest.mark.parametrize("frame", FOUND.values(), ids=list(FOUND))
def test_found_frame_is_answered_without_internal_error(tmp_path, frame: str) -> None:
    with BrokerTarget(tmp_path) as broker:
        before = broker.digest()
        result = broker.run_batch([Case(bytes.fromhex(frame), True, "found")], random.Random(0))
        assert result.problems == []
        assert broker.new_errors() == []
        assert result.wrote or broker.digest() == before
