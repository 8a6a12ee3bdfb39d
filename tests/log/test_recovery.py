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


@pytest.mark.parametrize("where", ["records", "header", "length"])
def test_corruption_in_a_closed_segment_cuts_the_log_there_on_open_and_deletes_later_segments(tmp_path, caplog, where) -> None:
    log, batches = filled_log(tmp_path)
    log.close()
    middle = segment_files(tmp_path)[1]
    first_offset = int(middle.stem)
    batch_size = len(batches[0])
    flip_byte(middle, 2 * batch_size + {"records": 100, "header": 40, "length": 10}[where])  # in the third batch
    corrupt_offset = first_offset + 2 * 2

    with caplog.at_level(logging.ERROR, logger="cluster.broker.log"):
        log = PartitionLog.open(tmp_path, SMALL)

    assert log.log_end_offset == corrupt_offset and log.corruption is None
    assert split_batches(read_all(log)) == batches[: corrupt_offset // 2]
    assert segment_files(tmp_path) == segment_files(tmp_path)[:2] and middle.stat().st_size == 2 * batch_size
    assert log.epoch_cache.entries == [(0, 0)]
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert middle.name in line and f"byte {2 * batch_size}" in line and f"dropping offsets from {corrupt_offset}" in line
    assert "later segment(s)" in line
    assert log.append(make_batch(2, 9_000), leader_epoch=7).first_offset == corrupt_offset, "appends go on from the cut"
    log.close()


def test_a_lost_middle_segment_cuts_the_log_where_the_gap_starts(tmp_path, caplog) -> None:
    log, batches = filled_log(tmp_path)
    log.close()
    first, middle = segment_files(tmp_path)[:2]
    for path in middle.parent.glob(middle.stem + ".*"):
        path.unlink()

    with caplog.at_level(logging.ERROR, logger="cluster.broker.log"):
        log = PartitionLog.open(tmp_path, SMALL)

    assert log.log_end_offset == int(middle.stem) and segment_files(tmp_path) == [first]
    assert split_batches(read_all(log)) == batches[: int(middle.stem) // 2]
    assert any("next one starts at" in r.getMessage() for r in caplog.records)
    log.close()


def test_bits_rotting_under_a_running_log_are_found_by_a_truncation_and_not_served(tmp_path, caplog) -> None:
    log, batches = filled_log(tmp_path)
    segment = segment_files(tmp_path)[-2]
    base = int(segment.stem)
    flip_byte(segment, len(batches[0]) + 70)  # the segment's second batch
    corrupt_offset = base + 2

    with caplog.at_level(logging.ERROR, logger="cluster.broker.log"):
        log.truncate_to(base + 8)

    assert log.corruption is not None and log.corruption.offset == corrupt_offset
    with pytest.raises(CorruptLogError, match=f"offset {corrupt_offset}"):
        log.read(corrupt_offset, 10_000)
    assert log.read(base, 10_000).next_offset == corrupt_offset, "the batches before the damage are still served"
    assert any(segment.name in r.getMessage() for r in caplog.records)

    log.truncate_to(corrupt_offset)

    assert log.corruption is None and log.log_end_offset == corrupt_offset
    assert split_batches(read_all(log)) == batches[: corrupt_offset // 2]
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
    assert "truncated there" in line and active.name in line and f"dropping offsets from {last_offset_kept}" in line
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


@pytest.mark.parametrize("name", ["log-start-offset-checkpoint", "recovery-point-offset-checkpoint", "leader-epoch-checkpoint"])
@pytest.mark.parametrize("damage", ["flipped digit", "cut tail"])
def test_a_damaged_checkpoint_is_reported_and_never_trusted(tmp_path, caplog, name: str, damage: str) -> None:
    log, batches = filled_log(tmp_path)
    log.advance_log_start(3)  # inside the first segment, so the log start has a checkpoint of its own
    log.close()
    path = tmp_path / name
    text = path.read_bytes()
    first_digit = text.index(b"\n", text.index(b"\n") + 1) + 1  # the first digit of the first entry
    damaged = text[:first_digit] + bytes([text[first_digit] ^ 0x01]) + text[first_digit + 1 :]
    path.write_bytes(damaged if damage == "flipped digit" else text[: len(text) // 2])

    with caplog.at_level(logging.WARNING, logger="cluster.broker.log"):
        log = PartitionLog.open(tmp_path, SMALL)

    assert any(name in r.getMessage() and "not trusted" in r.getMessage() for r in caplog.records)
    assert log.log_start_offset == (0 if name == "log-start-offset-checkpoint" else 3)
    assert split_batches(read_all(log, start=4)) == batches[2:]
    assert log.epoch_cache.entries == [(0, log.log_start_offset), (1, 20), (2, 40)]
    if name == "recovery-point-offset-checkpoint":
        assert log.recovery_point == 0, "everything is flushed again at the next flush"
    log.close()
