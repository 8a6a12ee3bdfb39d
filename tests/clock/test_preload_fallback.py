"""Without a usable control file the preload changes nothing: true time, no crash, one line on stderr."""

from __future__ import annotations

import pytest

from cluster.clock import ClockState
from cluster.clock.control import SIZE, encode_file
from tests.clock.probes import Probe, assert_shifted

WARNING = "keeps true time"


def write_bad_file(path, kind: str) -> None:
    good = encode_file(ClockState(offset_ns=86_400 * 10**9))
    damaged = {
        "empty": b"",
        "short": good[: SIZE - 1],
        "magic": b"LQCX" + good[4:],
        "version": good[:4] + (2).to_bytes(4, "little") + good[8:],
    }
    if kind == "directory":
        path.mkdir()
    elif kind != "missing":
        path.write_bytes(damaged[kind])


@pytest.mark.parametrize("kind", ["missing", "empty", "short", "magic", "version", "directory"])
def test_an_unusable_control_file_means_true_time_and_one_warning(tmp_path, kind) -> None:
    path = tmp_path / "clock"
    write_bad_file(path, kind)
    probe = Probe(path)
    for _ in range(3):
        assert_shifted(probe.sample(), ClockState())
    assert probe.ask("shift 0") == [0]
    status, stderr = probe.close()
    assert status == 0
    assert stderr.count(WARNING) == 1 and str(path) in stderr, stderr


def test_a_process_without_a_control_file_variable_keeps_true_time_silently() -> None:
    probe = Probe(None)
    assert_shifted(probe.sample(), ClockState())
    assert probe.close() == (0, "")
