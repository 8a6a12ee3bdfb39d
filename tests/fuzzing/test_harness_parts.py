"""The fuzzer's own parts, without a server: mutations keep or break the framing as they say, a campaign's
cases are a function of its seed, shrinking keeps the failure, and the log watch sees internal errors only."""

from __future__ import annotations

import random
import struct
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fuzzing import jute_requests, kafka_requests, peer_frames
from fuzzing.byte_mutations import framed, is_framed, mutate
from fuzzing.cases import Case
from fuzzing.kafka_judge import Expect, expectation
from fuzzing.server_log import LogWatch, signature
from fuzzing.shrink import shrink


@given(st.binary(max_size=200), st.integers(0, 2**32))
def test_a_mutation_says_truly_whether_its_frame_is_framed(payload: bytes, seed: int) -> None:
    mutated = mutate(framed(payload), random.Random(seed))
    if mutated.framed:
        assert is_framed(mutated.data)


def test_every_api_and_version_is_built_and_the_broker_reads_it_as_answerable() -> None:
    rng = random.Random(5)
    for api, version in kafka_requests.apis_and_versions():
        built = kafka_requests.build(api, version, 9, rng, mutate_field=False)
        expected = expectation(built.frame[4:])
        assert (expected.api, expected.version, expected.correlation_id) == (api, version, 9)
        assert expected.expect in (Expect.ANSWER, Expect.SILENT)


def test_the_same_seed_builds_the_same_frames() -> None:
    def frames(seed: int) -> list[bytes]:
        rng = random.Random(seed)
        kafka = [kafka_requests.build(*rng.choice(kafka_requests.apis_and_versions()), 1, rng, True).frame for _ in range(50)]
        return kafka + [jute_requests.build_request(1, rng, True).frame for _ in range(50)]

    assert frames(3) == frames(3) and frames(3) != frames(4)


@given(st.binary(min_size=1, max_size=300), st.binary(min_size=1, max_size=3))
def test_shrinking_keeps_the_failure_and_the_framing(payload: bytes, needle: bytes) -> None:
    """The failure here: the payload holds `needle`. What is left is the needle alone, still framed."""
    case = Case(framed(payload + needle), True, "test")

    def still_fails(candidate: Case) -> bool:
        return is_framed(candidate.data) and needle in candidate.data[4:]

    shrunk = shrink(case, still_fails)
    assert still_fails(shrunk) and len(shrunk.data) <= 4 + len(needle)


def test_the_log_watch_reports_error_entries_with_their_tracebacks_and_only_new_ones(tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    log.write_text("2026-12-07 13:00:00,000 WARNING x: closing connection from a: malformed frame\n")
    watch = LogWatch(log)
    assert watch.new_errors() == []
    with log.open("a") as out:
        out.write("2026-12-07 13:00:01,000 ERROR cluster.broker.server: closing connection from b after an internal error\n"
                  "Traceback (most recent call last):\n"
                  '  File "/x/segment.py", line 304, in _span\n'
                  "struct.error: unpack_from requires a buffer of at least 61 bytes\n"
                  "2026-12-07 13:00:02,000 INFO x: fine\n")
    errors = watch.new_errors()
    assert len(errors) == 1 and errors[0].endswith("at least 61 bytes")
    assert signature(errors[0]) == 'struct.error: unpack_from requires a buffer of at least N bytes at File "/x/segment.py", line N, in _span'
    assert watch.new_errors() == []


def test_a_lying_size_is_unframed() -> None:
    assert not is_framed(struct.pack(">i", 10) + b"abc") and is_framed(framed(b"abc"))


def test_peer_frames_are_read_as_the_keeper_reads_them() -> None:
    rng = random.Random(2)
    for _ in range(300):
        frame, label = peer_frames.build_message(rng, (1, 2), mutate_field=rng.random() < 0.5)
        reading = peer_frames.read_as_server(frame)
        assert reading.refused is None and not reading.incomplete and not reading.trusted, label
    hello = peer_frames.build_hello(rng, (2,), mutate_field=False)[0]
    assert peer_frames.read_as_server(hello, hello_from=frozenset({2})).refused is None
    assert peer_frames.read_as_server(hello, hello_from=frozenset({3})).refused is not None
    assert peer_frames.read_as_server(struct.pack(">i", -1) + hello).refused is not None  # 4 GiB, past MAX_FRAME
    assert peer_frames.read_as_server(hello[:-1]).incomplete
