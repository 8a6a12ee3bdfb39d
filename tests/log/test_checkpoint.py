"""Checkpoint files: what is written is read back, and no damage is ever read as something else."""

from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.log import checkpoint

ENTRIES = st.lists(st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 2**63 - 1)), max_size=20)


@given(entries=ENTRIES)
def test_what_is_written_is_read_back(tmp_path_factory, entries) -> None:
    path = tmp_path_factory.mktemp("checkpoint") / "leader-epoch-checkpoint"
    checkpoint.write(path, entries)
    assert checkpoint.read(path, 2) == entries


@given(entries=ENTRIES, data=st.data())
def test_a_flipped_bit_or_a_cut_tail_is_never_read_as_other_entries(tmp_path_factory, entries, data) -> None:
    path = tmp_path_factory.mktemp("checkpoint") / "leader-epoch-checkpoint"
    checkpoint.write(path, entries)
    good = path.read_bytes()
    if data.draw(st.booleans(), label="flip rather than cut"):
        bit = data.draw(st.integers(0, 8 * len(good) - 1), label="bit")
        flipped = bytearray(good)
        flipped[bit // 8] ^= 1 << (bit % 8)
        damaged = bytes(flipped)
    else:
        damaged = good[: data.draw(st.integers(0, len(good) - 1), label="kept bytes")]
    path.write_bytes(damaged)

    try:
        read = checkpoint.read(path, 2)
    except checkpoint.CheckpointError:
        return
    assert read == entries, "only damage to the final line break can go unnoticed, and it changes nothing"
    assert damaged.rstrip(b"\n\x0b\x0c\x1c\x1d\x1e\r") == good.rstrip(b"\n")


def test_kafkas_version_0_files_without_a_checksum_are_still_read(tmp_path) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    path.write_text("0\n1\n1234\n")
    assert checkpoint.read(path, 1) == [(1234,)]
    assert checkpoint.read(tmp_path / "missing", 1) is None


def test_a_full_disk_keeps_the_old_file_whole_and_any_other_error_is_raised(tmp_path, monkeypatch) -> None:
    path = tmp_path / "recovery-point-offset-checkpoint"
    checkpoint.write(path, [(5,)])
    failure = OSError(errno.ENOSPC, "No space left on device")

    def failing_write(fd: int, data: object) -> int:
        raise failure

    monkeypatch.setattr(os, "write", failing_write)
    assert checkpoint.write_or_keep_old(path, [(9,)]) is False
    failure = OSError(errno.EIO, "Input/output error")
    with pytest.raises(OSError, match="Input/output"):
        checkpoint.write_or_keep_old(path, [(9,)])
    monkeypatch.undo()

    assert checkpoint.read(path, 1) == [(5,)]
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file is left behind"
