"""The log on a failing disk: a full disk undoes the operation, any other I/O error takes the log
offline, and with log.flush.interval.messages=1 an append that returned is on disk, names included."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

from cluster.broker.log import LogConfig, PartitionLog, checkpoint
from cluster.broker.log.errors import LogDirFailedError, LogDirFullError, StorageError
from tests.log.batches import make_batch, read_all, segment_files, split_batches, stamped
from tests.log.disk import Disk

SMALL = LogConfig(segment_bytes=1200, index_interval_bytes=200)
CLOCK = lambda: 5_000  # noqa: E731


def batch(n: int):
    return make_batch(2, 1_000 + n, value_size=40, fill=n)


def files_of(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def filled(directory: Path, config: LogConfig = SMALL, batches: int = 14) -> PartitionLog:
    log = PartitionLog.open(directory, config, CLOCK)
    for n in range(batches):
        log.append(batch(n), leader_epoch=n // 5)
    return log


# --- a full disk ---------------------------------------------------------------------------------


@pytest.mark.parametrize("room", [0, 100, 400, 700], ids=["nothing", "a torn batch", "batches and a torn one", "past a roll"])
def test_an_append_that_fills_the_disk_is_undone_and_the_same_append_succeeds_once_space_returns(
    tmp_path, monkeypatch, caplog, room: int
) -> None:
    log = filled(tmp_path, batches=10)  # 159-byte batches, 7 to a segment: the active one has room for 4
    log.flush()
    before = files_of(tmp_path)
    end, epochs = log.log_end_offset, log.epoch_cache.entries
    disk = Disk(tmp_path, budget=room).install(monkeypatch)
    big = b"".join(bytes(batch(20 + n)) for n in range(8))  # 4 batches fill the active segment, 4 go to a new one

    with caplog.at_level(logging.WARNING, logger="cluster.broker.log"), pytest.raises(LogDirFullError, match="full"):
        log.append(bytearray(big), leader_epoch=9)

    assert log.failure is None, "a full disk does not take the log offline"
    assert (log.log_end_offset, log.epoch_cache.entries) == (end, epochs)
    assert files_of(tmp_path) == before, "segments, indexes and checkpoints as they were"
    for segment in segment_files(tmp_path):
        assert disk.is_durable(segment), "the undo is on disk: a power loss cannot bring the records back"
    assert "undone" in caplog.text
    assert log.read(0, 10_000).length > 0, "reads go on"

    disk.heal()
    appended = log.append(bytearray(big), leader_epoch=9)
    assert appended.first_offset == end
    assert len(split_batches(read_all(log))) == 10 + 8 and len(segment_files(tmp_path)) == 3
    log.close()
    reopened = PartitionLog.open(tmp_path, SMALL, CLOCK)
    assert len(split_batches(read_all(reopened))) == 10 + 8 and reopened.epoch_cache.entries[-1] == (9, end)
    reopened.close()


def test_a_follower_append_that_fills_the_disk_is_undone(tmp_path, monkeypatch) -> None:
    leader = filled(tmp_path / "leader")
    follower = PartitionLog.open(tmp_path / "follower", SMALL, CLOCK)
    data = read_all(leader)
    disk = Disk(tmp_path / "follower", budget=len(data) // 2).install(monkeypatch)

    with pytest.raises(LogDirFullError):
        follower.append_as_follower(data)

    assert follower.log_end_offset == 0 and read_all(follower) == b""
    disk.heal()
    follower.append_as_follower(data)
    assert read_all(follower) == data and follower.epoch_cache.entries == leader.epoch_cache.entries


def test_checkpoints_a_full_disk_refuses_keep_the_old_file_and_are_written_later(tmp_path, monkeypatch) -> None:
    log = PartitionLog.open(tmp_path, LogConfig(flush_interval_messages=1), CLOCK)
    log.append(batch(0), leader_epoch=0)
    disk = Disk(tmp_path).install(monkeypatch)
    disk.budget = len(batch(1))  # room for the batch, none for the checkpoints

    info = log.append(batch(1), leader_epoch=1)

    assert info.first_offset == 2 and log.recovery_point == 4, "the append is flushed and answered"
    assert checkpoint.read(tmp_path / "recovery-point-offset-checkpoint", 1) == [(2,)], "the old file, whole"
    assert checkpoint.read(tmp_path / "leader-epoch-checkpoint", 2) == [(0, 0)]
    log.maybe_flush()
    assert checkpoint.read(tmp_path / "recovery-point-offset-checkpoint", 1) == [(2,)], "still full"

    disk.heal()
    log.maybe_flush()
    assert checkpoint.read(tmp_path / "recovery-point-offset-checkpoint", 1) == [(4,)]
    assert checkpoint.read(tmp_path / "leader-epoch-checkpoint", 2) == [(0, 0), (1, 2)]


def test_a_log_start_a_full_disk_cannot_checkpoint_does_not_move(tmp_path, monkeypatch) -> None:
    log = filled(tmp_path)
    start = log.log_start_offset
    Disk(tmp_path, budget=0).install(monkeypatch)

    with pytest.raises(LogDirFullError):
        log.advance_log_start(9)
    with pytest.raises(LogDirFullError):
        log.truncate_fully_and_start_at(100)

    assert log.log_start_offset == start and len(split_batches(read_all(log))) == 14


# --- any other I/O error -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["torn write", "write", "fsync", "fsync full"])
def test_any_other_io_error_takes_the_log_offline_and_reopening_keeps_only_whole_batches(
    tmp_path, monkeypatch, fault: str
) -> None:
    failures: list[LogDirFailedError] = []
    log = PartitionLog.open(tmp_path, LogConfig(flush_interval_messages=1), CLOCK, on_failure=failures.append)
    for n in range(3):
        log.append(batch(n), leader_epoch=0)
    written = read_all(log)
    disk = Disk(tmp_path).install(monkeypatch)
    if fault == "torn write":
        disk.budget, disk.budget_error = 50, errno.EIO
    elif fault == "write":
        disk.write_error = errno.EIO
    else:  # a failed fsync may have dropped dirty pages, whatever its errno says
        disk.fsync_error = errno.EIO if fault == "fsync" else errno.ENOSPC

    with pytest.raises(LogDirFailedError) as raised:
        log.append(batch(3), leader_epoch=0)

    assert failures == [raised.value] and log.failure is raised.value
    for call in (lambda: log.read(0, 10_000), lambda: log.append(batch(9), 0), log.flush, log.roll,
                 lambda: log.truncate_to(2), lambda: log.offset_for_timestamp(0)):
        with pytest.raises(StorageError):
            call()
    assert failures == [raised.value], "told once"
    disk.heal()
    log.close()

    reopened = PartitionLog.open(tmp_path, SMALL, CLOCK)
    kept = read_all(reopened)
    assert kept[: len(written)] == written
    assert split_batches(kept) == split_batches(written) + ([bytes(split_batches(kept)[-1])] if len(kept) > len(written) else [])
    assert sum(path.stat().st_size for path in segment_files(tmp_path)) == len(kept), "the torn tail is gone"
    reopened.close()


# --- what an answered append leaves on disk ------------------------------------------------------


@pytest.mark.parametrize("checkpoints", ["written", "refused by a full disk"])
def test_with_flush_interval_messages_1_every_returned_append_is_durable_names_included(
    tmp_path, monkeypatch, checkpoints: str
) -> None:
    disk = Disk(tmp_path).install(monkeypatch)
    directory = tmp_path / "topic-0"
    log = PartitionLog.open(directory, LogConfig(segment_bytes=1200, flush_interval_messages=1), CLOCK)

    if checkpoints != "written":
        disk.failing_suffix = (".tmp", errno.ENOSPC)  # checkpoint files, whose writes fsync the directory, cannot be written
    for n in range(20):  # three segment rolls
        log.append(batch(n), leader_epoch=n // 7)
        assert all(disk.is_durable(segment) for segment in segment_files(directory)), f"after append {n}"
        assert disk.is_durable(directory)
    assert len(segment_files(directory)) == 3

    log.truncate_to(4)  # a follower repairing divergence: later segments go, the first is cut
    log.append_as_follower(stamped(batch(30), base_offset=4, leader_epoch=5))
    assert [segment.name for segment in segment_files(directory)] == ["00000000000000000000.log"]
    assert disk.is_durable(segment_files(directory)[0])
    assert all(disk.is_durably_gone(directory / name) for name in ("00000000000000000014.log", "00000000000000000028.log"))
    log.close()


def test_with_kafkas_default_policy_appends_are_left_to_the_os_until_a_roll(tmp_path, monkeypatch) -> None:
    disk = Disk(tmp_path).install(monkeypatch)
    directory = tmp_path / "topic-0"
    log = PartitionLog.open(directory, LogConfig(segment_bytes=1200), CLOCK)
    opened = len(disk.events)

    for n in range(6):
        log.append(batch(n), leader_epoch=0)

    assert not disk.is_durable(segment_files(directory)[0])
    assert not [path for kind, path in disk.events[opened:] if kind == "fsync" and path.suffix == ".log"]
    log.append(batch(7), leader_epoch=0)
    log.append(batch(8), leader_epoch=0)
    assert disk.is_durable(segment_files(directory)[0]), "a roll flushes the segment it closes, as Kafka does"
    log.close()
