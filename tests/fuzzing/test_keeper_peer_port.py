"""A keeper ensemble of two, its peer ports fuzzed: the frames the fuzzer found failures with, each sent to
both servers (one leads), and a seeded slice of the campaign (`python -m fuzzing keeper-peer`)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from fuzzing.campaign import run
from fuzzing.cases import Case
from fuzzing.keeper_peer_target import KeeperPeerTarget
from tests.fuzzing.slice import SLICE_SEED

PEER_SLICE_FRAMES = 3_000
"""About 5 s: a peer batch waits for no answers, so frames come cheap here (and the servers start in 5 s)."""

FOUND = {
    # A forward whose jute op is no write (here getSASL; a read, a ping, whoAmI alike) reached the leader's
    # write translation: AttributeError, an internal error, and the peer's connection dropped.
    "forward-of-get-sasl":
        "000000404600b400aa00000000001c00ab00000000000000000000000000000000000000000000000000000300000000660000000f14007f00c80015004600cf00840051",
    "forward-of-an-op-without-a-body":
        "0000002d460000000200000000003f008c000000000000000000000000000000000000000000000000000002000000006b",
}


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeeperPeerTarget]:
    with KeeperPeerTarget(tmp_path_factory.mktemp("keeper-peer")) as target:
        yield target


@pytest.mark.parametrize("frame", FOUND.values(), ids=list(FOUND))
def test_found_frame_costs_no_internal_error_on_either_server(ensemble: KeeperPeerTarget, frame: str) -> None:
    for _ in range(2):  # the servers in turn
        result = ensemble.run_batch([Case(bytes.fromhex(frame), True, "forward")], random.Random(0))
        assert result.problems == []
        assert ensemble.new_errors() == []


@pytest.mark.slow
def test_seeded_slice_of_peer_port_fuzzing_finds_nothing(ensemble: KeeperPeerTarget) -> None:
    report = run(ensemble, PEER_SLICE_FRAMES, SLICE_SEED, client_every=PEER_SLICE_FRAMES // 2)
    assert report.failures == [], "\n".join(report.lines())
    assert report.exit_code is None and report.frames == PEER_SLICE_FRAMES and report.client_checks == 3
