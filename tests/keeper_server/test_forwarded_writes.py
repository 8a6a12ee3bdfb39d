"""A follower forwards its clients' writes to the leader as the client sent them, and the leader reads a
forward as it comes: an op in it that is no write (a read, a ping, auth) is refused with a keeper error,
as the client's own server refuses it, never an AttributeError (the peer fuzzer's finding)."""

from __future__ import annotations

import random

import pytest

from cluster.keeper.errors import KeeperError
from cluster.keeper.jute.errors import JuteError
from cluster.keeper.jute.messages import REQUEST_RECORDS, decode_request
from cluster.keeper.server.translate import WRITE_OPS, write_request
from fuzzing.jute_requests import build_request


def test_every_request_that_is_no_write_is_refused_as_one() -> None:
    rng = random.Random(0)
    refused = set()
    for _ in range(600):
        try:
            header, record = decode_request(build_request(1, rng, mutate_field=False).frame[4:])
        except JuteError:
            continue  # an op code keeper does not know: refused before it gets here
        if header.type not in WRITE_OPS:
            with pytest.raises(KeeperError):
                write_request(header.type, record)
            refused.add(header.type)
    assert refused == set(REQUEST_RECORDS) - WRITE_OPS
