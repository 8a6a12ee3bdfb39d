"""Damage on disk: found, reported with offsets, never served; whatever a user can break, open survives."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cluster.broker.log import CorruptLogError, LogConfig, PartitionLog
from tests.log.batches import kill_process_files, make_batch, read_all, segment_files, split_batches

SMALL = LogConfig(segment_bytes=1200, index_interval_bytes=200)


def filled_log(directory: Path, batches: int = 30) -> tuple[PartitionLog, list[bytes]]:
    log = PartitionLog.open(directory, SMALL, clock=lambda: 5_000)
    for n in range(batches):
        log.append(make_batch(2, 1_000 + n, value_size=40, fill=n), leader_epoch=n // 10)
    return log, split_batches(read_all(log))


def flip_byte(path: Path, position: int) -> None:
    with open(path, "r+b") as file:
        file.seek(position)
        byte = file.read(1)[0]
        file.seek(position)
        file.write(bytes([byte ^ 0x40]))


def test_corruption_inside_a_closed_segment_is_reported_and_nothing_after_it_is_served(tmp_path, caplog) -> None:
    log, batches = filled_log(tmp_path)
    log.close()
    middle = segment_files(tmp_path)[1]
    first_offset = int(middle.stem)
    batch_size = len(batches[0])
    flip_byte(middle, 2 * batch_size + 100)  # inside the third batch's records
    corrupt_offset = first_offset + 2 * 2

    log = PartitionLog.open(tmp_path, SMALL)
    with caplog.at_level(logging.ERROR, logger="cluster.broker.log"):
        region = log.read(first_offset, 10_000)

    assert split_batches(region.read_bytes()) == batches[first_offset // 2 : corrupt_offset // 2]
    assert region.next_offset == corrupt_offset
    assert log.corruption is not None
    assert (log.corruption.segment, log.corruption.position, log.corruption.offset) == (middle.name, 2 * batch_size, corrupt_offset)
    assert "CRC" in log.corruption.reason
    for offset in (corrupt_offset, corrupt_offset + 1, log.log_end_offset - 1):
        with pytest.raises(CorruptLogError, match=f"offset {corrupt_offset}"):
            log.read(offset, 10_000)
    [line] = [r.getMessage() for r in caplog.records]
    assert middle.name in line and f"byte {2 * batch_size}" in line and f"offset {corrupt_offset}" in line
    assert log.read(0, 10_000).length > 0, "batches before the damage are still served"
    assert log.offset_for_timestamp(1_000) == 0
    with pytest.raises(CorruptLogError):
        log.offset_for_timestamp(1_029)
    log.close()


def test_truncating_below_detected_corruption_clears_it(tmp_path) -> None:
    log, batches = filled_log(tmp_path)
    log.close()
    middle = segment_files(tmp_path)[1]
    flip_byte(middle, len(batches[0]) + 70)
    log = PartitionLog.open(tmp_path, SMALL)
    with pytest.raises(CorruptLogError):
        read_all(log)
    corrupt_offset = log.corruption.offset

    log.truncate_to(corrupt_offset)

    assert log.corruption is None and log.log_end_offset == corrupt_offset
    assert split_batches(read_all(log)) == batches[: corrupt_offset // 2]
    log.append(make_batch(2, 9_000), leader_epoch=5)
    assert log.log_end_offset == corrupt_offset + 2
    log.close()


@pytest.mark.parametrize("damage", ["cut", "flip", "garbage"])
def test_crash_recovery_truncates_a_damaged_tail_and_logs_the_dropped_offsets(tmp_path, caplog, damage: str) -> None:
    log, batches = filled_log(tmp_path, batches=12)
    kill_process_files(tmp_path)
    active = segment_files(tmp_path)[-1]
    size = active.stat().st_size
    last_offset_kept = 24 - 2
    if damage == "cut":
        with open(active, "r+b") as file:
            file.truncate(size - 10)
    elif damage == "flip":
        flip_byte(active, size - 10)
    else:
        with open(active, "ab") as file:
            file.write(b"\x00" * 7 + b"\xff" * 30)
        last_offset_kept = 24

    with caplog.at_level(logging.ERROR, logger="cluster.broker.log"):
        log = PartitionLog.open(tmp_path, SMALL)

    assert log.log_end_offset == last_offset_kept
    assert split_batches(read_all(log)) == batches[: last_offset_kept // 2]
    [line] = [r.getMessage() for r in caplog.records]
    assert "recovery truncates" in line and active.name in line and f"dropping offsets from {last_offset_kept}" in line
    assert log.epoch_cache.entries == [(0, 0), (1, 20)]
    log.close()


def test_crash_without_damage_loses_nothing_and_rebuilds_unwritten_indexes(tmp_path) -> None:
    log, batches = filled_log(tmp_path)
    kill_process_files(tmp_path)

    log = PartitionLog.open(tmp_path, SMALL)

    assert split_batches(read_all(log, max_bytes=1)) == batches
    assert log.offset_for_timestamp(1_017) == 33  # batch 16 holds timestamps 1016 and 1017
    log.close()


@pytest.mark.parametrize(
    "damage",
    [
        "truncated .index",
        "garbage .index",
        "missing .index",
        "garbage .timeindex",
        "empty .timeindex",
        "missing checkpoints",
        "garbage checkpoints",
        "stray files",
        "orphan index",
    ],
)
def test_open_repairs_or_ignores_what_a_user_can_break(tmp_path, caplog, damage: str) -> None:
    log, batches = filled_log(tmp_path)
    log.close()
    first = segment_files(tmp_path)[0].with_suffix("")
    if damage == "truncated .index":
        data = first.with_suffix(".index").read_bytes()
        first.with_suffix(".index").write_bytes(data[:-3])
    elif damage == "garbage .index":
        first.with_suffix(".index").write_bytes(b"\x7f\xee" * 12)
    elif damage == "missing .index":
        first.with_suffix(".index").unlink()
    elif damage == "garbage .timeindex":
        first.with_suffix(".timeindex").write_bytes(b"\x01" * 24)
    elif damage == "empty .timeindex":
        first.with_suffix(".timeindex").write_bytes(b"")
    elif damage == "missing checkpoints":
        (tmp_path / "recovery-point-offset-checkpoint").unlink()
        (tmp_path / "leader-epoch-checkpoint").unlink()
    elif damage == "garbage checkpoints":
        (tmp_path / "recovery-point-offset-checkpoint").write_bytes(b"\xff\x00 not a checkpoint")
        (tmp_path / "leader-epoch-checkpoint").write_text("0\n5\n1 2\n")
    elif damage == "stray files":
        (tmp_path / "notes.txt").write_text("hello")
        (tmp_path / "123.log").write_text("not a segment")
        (tmp_path / "subdir").mkdir()
        (tmp_path / "leader-epoch-checkpoint.tmp").write_text("half written")
    else:
        (tmp_path / "00000000000000099999.index").write_bytes(b"\x00" * 8)

    with caplog.at_level(logging.WARNING, logger="cluster.broker.log"):
        log = PartitionLog.open(tmp_path, SMALL)

    assert split_batches(read_all(log, max_bytes=1)) == batches
    assert log.corruption is None
    assert log.epoch_cache.entries == [(0, 0), (1, 20), (2, 40)]
    assert log.offset_for_timestamp(1_003) == 5  # the second record of batch 2
    if damage != "missing checkpoints":
        assert caplog.records, "a repaired or ignored problem is reported"
    assert not (tmp_path / "00000000000000099999.index").exists()
    assert not (tmp_path / "leader-epoch-checkpoint.tmp").exists()
    log.close()


def test_an_empty_directory_is_an_empty_log(tmp_path) -> None:
    log = PartitionLog.open(tmp_path / "topic-0")

    assert (log.log_start_offset, log.log_end_offset) == (0, 0)
    assert log.read(0, 100).length == 0
    log.close()
