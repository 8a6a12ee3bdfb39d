import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatchBuilder

from cluster.broker.protocol.record_batch import (
    HEADER_SIZE,
    BatchHeader,
    Compression,
    CorruptBatchError,
    iter_batches,
    stamp,
    validate,
)


def kafka_python_batch(values: list[bytes], codec: int = 0, producer_id: int = -1) -> bytearray:
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=False,
        producer_id=producer_id,
        producer_epoch=0 if producer_id >= 0 else -1,
        base_sequence=0 if producer_id >= 0 else -1,
        batch_size=1 << 20,
    )
    for i, value in enumerate(values):
        builder.append(i, timestamp=1_700_000_000_000 + i, key=b"k", value=value, headers=[])
    return builder.build()


def test_worked_example_from_the_research_notes():
    builder = DefaultRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    builder.append(0, timestamp=1_700_000_000_000, key=b"k", value=b"hello", headers=[("h", b"1")])
    batch = builder.build()
    header = validate(batch)
    assert header.size == len(batch) == 78
    assert header.crc == 0x5393D5AD
    assert (header.records_count, header.last_offset_delta, header.compression) == (1, 0, Compression.NONE)
    assert header.base_timestamp == header.max_timestamp == 1_700_000_000_000
    assert not header.is_idempotent


@pytest.mark.parametrize("codec", list(Compression))
def test_headers_of_real_client_batches_parse_for_every_codec(codec):
    batch = kafka_python_batch([b"value-%d " % i * 50 for i in range(10)], codec=codec, producer_id=7)
    header = validate(batch)
    assert header.compression is codec
    assert header.records_count == 10 and header.last_offset_delta == 9
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (7, 0, 0)


@given(base_offset=st.integers(0, 2**62), epoch=st.integers(-1, 2**31 - 1))
def test_stamping_offset_and_epoch_keeps_the_crc_valid(base_offset, epoch):
    batch = kafka_python_batch([b"a", b"b", b"c"])
    stamp(batch, 0, base_offset, epoch)
    header = validate(batch)
    assert (header.base_offset, header.partition_leader_epoch) == (base_offset, epoch)
    assert header.last_offset == base_offset + 2


@given(data=st.data())
def test_any_flipped_bit_in_the_checksummed_part_is_detected(data):
    batch = kafka_python_batch([b"payload-%d" % i for i in range(5)])
    position = data.draw(st.integers(21, len(batch) - 1))
    batch[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(CorruptBatchError):
        validate(batch)


def test_without_the_crc_check_a_flipped_payload_passes_but_framing_is_still_checked():
    batch = kafka_python_batch([b"payload"])
    batch[-1] ^= 0xFF
    assert validate(batch, check_crc=False) == validate(kafka_python_batch([b"payload"]))
    with pytest.raises(CorruptBatchError, match="CRC"):
        validate(batch)
    batch[16] = 1
    with pytest.raises(CorruptBatchError, match="magic 1"):
        validate(batch, check_crc=False)


def test_torn_and_malformed_batches_are_rejected_with_their_position():
    batch = kafka_python_batch([b"x" * 100])
    with pytest.raises(CorruptBatchError, match="only 40 bytes"):
        validate(batch[:40])
    with pytest.raises(CorruptBatchError, match="only .* present"):
        validate(batch[:-1])
    bad_magic = bytearray(batch)
    bad_magic[16] = 1
    with pytest.raises(CorruptBatchError, match="magic 1"):
        validate(bad_magic)
    negative_length = bytearray(batch)
    struct.pack_into(">i", negative_length, 8, -5)
    with pytest.raises(CorruptBatchError, match="below the minimum"):
        validate(negative_length)
    unknown_codec = bytearray(batch)
    unknown_codec[22] |= 0x07
    with pytest.raises(CorruptBatchError, match="unknown compression codec 7"):
        validate(unknown_codec)
    with pytest.raises(CorruptBatchError, match="exceeds the limit"):
        validate(batch, max_size=HEADER_SIZE)


def test_iter_batches_walks_a_buffer_and_stops_at_the_first_bad_batch():
    batches = [kafka_python_batch([b"%d" % i] * (i + 1)) for i in range(4)]
    buf = bytearray(b"".join(batches))
    positions = [position for position, _ in iter_batches(buf)]
    assert positions == [0, len(batches[0]), len(batches[0]) + len(batches[1]), sum(map(len, batches[:3]))]
    buf[positions[2] + 30] ^= 0xFF
    walked = []
    with pytest.raises(CorruptBatchError) as excinfo:
        for position, header in iter_batches(buf):
            walked.append(header)
    assert len(walked) == 2
    assert excinfo.value.position == positions[2]
    assert isinstance(walked[0], BatchHeader)
