"""The seeded slice of each campaign that `make test` runs: a fixed seed, so a regression fails the same way."""

from __future__ import annotations

from pathlib import Path

from fuzzing.campaign import run
from fuzzing.targets import TARGETS

SLICE_FRAMES = 5_000
SLICE_SEED = 22


def assert_slice_is_clean(server: str, directory: Path) -> None:
    with TARGETS[server](directory) as target:
        report = run(target, SLICE_FRAMES, SLICE_SEED, client_every=SLICE_FRAMES // 2)
    assert report.failures == [], "\n".join(report.lines())
    assert report.exit_code is None
    assert report.frames == SLICE_FRAMES and report.client_checks == 3
