"""Batches built by a real client library survive the log byte for byte, for every codec."""

from __future__ import annotations

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from cluster.broker.log import LogConfig, PartitionLog
from cluster.broker.protocol.record_batch import BatchHeader, Compression
from tests.log.batches import read_all, split_batches, stamped


def client_batch(codec: Compression, first_value: int) -> bytes:
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=int(codec), is_transactional=False,
        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 20,
    )
    for i in range(40):
        # Repetitive values: kafka-python sends a batch uncompressed when compression does not shrink it.
        builder.append(i, timestamp=1_700_000_000_000 + i, key=b"key-%d" % i, value=b"value %d " % (first_value + i) * 30, headers=[("h", b"x")])
    return bytes(builder.build())


@pytest.mark.parametrize("codec", list(Compression), ids=lambda c: c.name.lower())
def test_client_batches_round_trip_byte_exactly(tmp_path, codec: Compression) -> None:
    batches = [client_batch(codec, first_value=n * 100) for n in range(3)]
    assert all(BatchHeader.parse(batch).compression == codec for batch in batches)
    log = PartitionLog.open(tmp_path, LogConfig(segment_bytes=4096, index_interval_bytes=512))
    infos = [log.append(batch, leader_epoch=7) for batch in batches]
    expected = [stamped(batch, info.first_offset, 7) for batch, info in zip(batches, infos)]

    stored = read_all(log, max_bytes=1)

    assert split_batches(stored) == expected
    assert [info.first_offset for info in infos] == [0, 40, 80]
    decoded = DefaultRecordBatch(expected[1])
    assert decoded.validate_crc()
    assert [record.offset for record in decoded] == list(range(40, 80))
    log.close()


def test_reopened_log_serves_the_same_client_bytes(tmp_path) -> None:
    batch = client_batch(Compression.ZSTD, first_value=0)
    log = PartitionLog.open(tmp_path)
    log.append(batch, leader_epoch=2)
    log.close()

    log = PartitionLog.open(tmp_path)

    assert log.read(0, 100).read_bytes() == stamped(batch, 0, 2)
    log.close()
