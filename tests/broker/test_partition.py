import pytest

from cluster.broker.log.config import LogConfig
from cluster.broker.log.errors import InvalidBatchError
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.partition import Partition
from cluster.broker.protocol.record_batch import CorruptBatchError
from cluster.broker.protocol.records import Record, build_batch


def idempotent_batch(sequence: int, values: list[bytes]) -> bytearray:
    records = [Record(offset=i, timestamp=1_700_000_000_000, value=v) for i, v in enumerate(values)]
    return build_batch(records, producer_id=42, producer_epoch=0, base_sequence=sequence)


def test_a_retry_after_a_restart_gets_its_original_offsets(tmp_path):
    log = PartitionLog.open(tmp_path / "t-0", LogConfig())
    partition = Partition("t", 0, log, broker_id=0)
    partition.append_as_leader(idempotent_batch(0, [b"a", b"b"]), leader_epoch=0)
    partition.append_as_leader(idempotent_batch(2, [b"c"]), leader_epoch=0)
    log.close()

    reopened = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=0)
    retry = reopened.append_as_leader(idempotent_batch(2, [b"c"]), leader_epoch=0)
    assert (retry.base_offset, retry.last_offset, retry.duplicate) == (2, 2, True)
    assert reopened.log.log_end_offset == 3
    assert reopened.append_as_leader(idempotent_batch(3, [b"d"]), leader_epoch=0).base_offset == 3


def test_a_follower_remembers_the_leaders_idempotent_batches_so_a_retry_to_it_as_leader_is_a_duplicate(tmp_path):
    leader = Partition("t", 0, PartitionLog.open(tmp_path / "leader" / "t-0", LogConfig()), broker_id=1)
    leader.append_as_leader(idempotent_batch(0, [b"a", b"b"]), leader_epoch=3)
    follower = Partition("t", 0, PartitionLog.open(tmp_path / "follower" / "t-0", LogConfig()), broker_id=2)
    follower.append_as_follower(leader.read(0, 1 << 20, None).read_bytes())

    retry = follower.append_as_leader(idempotent_batch(0, [b"a", b"b"]), leader_epoch=4)
    assert (retry.base_offset, retry.last_offset, retry.duplicate) == (0, 1, True)
    assert follower.log.log_end_offset == 2


def test_truncation_forgets_the_batches_it_removes(tmp_path):
    partition = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=0)
    partition.append_as_leader(idempotent_batch(0, [b"a"]), leader_epoch=0)
    partition.append_as_leader(idempotent_batch(1, [b"b"]), leader_epoch=0)
    partition.truncate_to(1)

    again = partition.append_as_leader(idempotent_batch(1, [b"b"]), leader_epoch=1)
    assert (again.base_offset, again.duplicate) == (1, False)


def test_a_corrupt_batch_is_refused_whether_or_not_it_looks_like_a_retry(tmp_path):
    partition = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=0)
    partition.append_as_leader(idempotent_batch(0, [b"a"]), leader_epoch=0)
    for sequence in (0, 1):  # a retry of the stored batch, then the next one
        corrupt = idempotent_batch(sequence, [b"a"])
        corrupt[-1] ^= 0xFF
        with pytest.raises((CorruptBatchError, InvalidBatchError)):
            partition.append_as_leader(corrupt, leader_epoch=0)
    assert partition.log.log_end_offset == 1
