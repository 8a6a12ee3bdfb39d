from cluster.broker.log.config import LogConfig
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.partition import Partition
from cluster.broker.protocol.records import Record, build_batch


def idempotent_batch(sequence: int, values: list[bytes]) -> bytearray:
    records = [Record(offset=i, timestamp=1_700_000_000_000, value=v) for i, v in enumerate(values)]
    return build_batch(records, producer_id=42, producer_epoch=0, base_sequence=sequence)


def test_a_retry_after_a_restart_gets_its_original_offsets(tmp_path):
    log = PartitionLog.open(tmp_path / "t-0", LogConfig())
    partition = Partition("t", 0, log, broker_id=0)
    partition.append(idempotent_batch(0, [b"a", b"b"]))
    partition.append(idempotent_batch(2, [b"c"]))
    log.close()

    reopened = Partition("t", 0, PartitionLog.open(tmp_path / "t-0", LogConfig()), broker_id=0)
    retry = reopened.append(idempotent_batch(2, [b"c"]))
    assert (retry.base_offset, retry.last_offset, retry.duplicate) == (2, 2, True)
    assert reopened.log.log_end_offset == 3
    assert reopened.append(idempotent_batch(3, [b"d"])).base_offset == 3
