import struct

import lz4.frame
import pytest
import snappy
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from cluster.broker.protocol.compression import compress
from cluster.broker.protocol.record_batch import (
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    Compression,
    CorruptBatchError,
    crc_of,
    stamp,
    validate,
)
from cluster.broker.protocol.records import Record, build_batch, decode_body, decode_records
from cluster.broker.protocol.varint import encode_varint

T0 = 1_700_000_000_000

optional_bytes = st.none() | st.binary(max_size=40)
headers = st.lists(st.tuples(st.text(max_size=8), optional_bytes), max_size=3)


@st.composite
def record_lists(draw, max_size=12):
    offset = draw(st.integers(0, 2**62))
    records = []
    for _ in range(draw(st.integers(1, max_size))):
        records.append(
            Record(
                offset=offset,
                timestamp=draw(st.integers(-(2**62), 2**62 - 1)),  # any two differ by an int64
                key=draw(optional_bytes),
                value=draw(optional_bytes),
                headers=draw(headers),
            )
        )
        offset += draw(st.integers(1, 1000))
    return records


producer_fields = st.fixed_dictionaries(
    {
        "partition_leader_epoch": st.integers(-1, 2**31 - 1),
        "producer_id": st.integers(-1, 2**63 - 1),
        "producer_epoch": st.integers(-1, 2**15 - 1),
        "base_sequence": st.integers(-1, 2**31 - 1),
        "transactional": st.booleans(),
        "control": st.booleans(),
    }
)


def rewritten(batch: bytes | bytearray, body: bytes | None = None, **changes) -> bytearray:
    """The batch with header fields and/or the bytes after the header replaced, CRC made valid again."""
    header = BatchHeader.parse(batch)
    body = bytes(batch[HEADER_SIZE : header.size]) if body is None else body
    out = bytearray(HEADER_SIZE) + body
    header = header._replace(batch_length=len(out) - LOG_OVERHEAD, **changes)
    HEADER.pack_into(out, 0, *header)
    header = header._replace(crc=crc_of(out, 0, len(out)))
    HEADER.pack_into(out, 0, *header)
    return out


def plain_body(records: list[Record]) -> bytes:
    return bytes(build_batch(records)[HEADER_SIZE:])


def sample_records(n: int = 20) -> list[Record]:
    return [Record(i, T0 + i, b"key-%d" % i, b"value %d " % i * 30, [("trace", b"%d" % i)]) for i in range(n)]


def as_tuple(record) -> tuple:
    return (record.offset, record.timestamp, record.key, record.value, list(record.headers))


@pytest.mark.parametrize("codec", list(Compression))
@given(records=record_lists(), fields=producer_fields)
def test_build_then_decode_returns_the_same_records(codec, records, fields):
    batch = build_batch(records, compression=codec, **fields)
    assert decode_records(batch) == records
    header = validate(batch)
    assert header.compression is codec
    assert header.base_offset == records[0].offset
    assert header.last_offset == records[-1].offset
    assert header.records_count == len(records)
    assert header.base_timestamp == records[0].timestamp
    assert header.max_timestamp == max(r.timestamp for r in records)
    assert not header.uses_log_append_time
    assert (header.is_transactional, header.is_control) == (fields["transactional"], fields["control"])
    assert header.partition_leader_epoch == fields["partition_leader_epoch"]
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (
        fields["producer_id"],
        fields["producer_epoch"],
        fields["base_sequence"],
    )


@pytest.mark.parametrize("codec", list(Compression))
@given(records=record_lists(), fields=producer_fields.map(lambda f: {**f, "control": False}))
def test_kafka_python_reads_our_batches_as_the_same_records(codec, records, fields):
    batch = DefaultRecordBatch(bytes(build_batch(records, compression=codec, **fields)))
    assert batch.compression_type == codec
    assert [as_tuple(r) for r in batch] == [as_tuple(r) for r in records]


@pytest.mark.parametrize("codec", list(Compression))
@given(
    values=st.lists(st.binary(min_size=1, max_size=8).map(lambda chunk: chunk * 40), min_size=1, max_size=10),
    keys=st.lists(optional_bytes, min_size=10, max_size=10),
    headers=headers,
    base_timestamp=st.integers(0, 2**50),
)
def test_we_read_kafka_python_batches_for_every_codec(codec, values, keys, headers, base_timestamp):
    builder = DefaultRecordBatchBuilder(2, codec, False, 11, 2, 40, batch_size=1 << 20)
    expected = []
    for i, value in enumerate(values):
        builder.append(i, timestamp=base_timestamp + 7 * i, key=keys[i], value=value, headers=headers)
        expected.append(Record(i, base_timestamp + 7 * i, keys[i], value, headers))
    batch = builder.build()
    assert validate(batch).compression is codec, "values must compress, or kafka-python writes them plain"
    assert decode_records(batch) == expected


def test_kafka_python_reads_a_commit_marker_we_build_as_a_control_record():
    commit_key = struct.pack(">hh", 0, 1)  # version 0, type 1 = COMMIT
    coordinator_epoch = struct.pack(">hi", 0, 7)
    batch = build_batch(
        [Record(42, T0, commit_key, coordinator_epoch)],
        producer_id=9,
        producer_epoch=1,
        transactional=True,
        control=True,
    )
    (marker,) = DefaultRecordBatch(bytes(batch))
    assert (marker.offset, marker.commit, marker.version) == (42, True, 0)


def test_a_single_record_batch_is_byte_identical_to_kafka_pythons():
    builder = DefaultRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    builder.append(0, timestamp=T0, key=b"k", value=b"hello", headers=[("h", b"1")])
    ours = build_batch([Record(0, T0, b"k", b"hello", [("h", b"1")])], partition_leader_epoch=0)
    assert ours == builder.build()
    assert validate(ours).crc == 0x5393D5AD


JAVA_AND_LIBRDKAFKA_BODIES = {
    "snappy, raw (librdkafka)": (Compression.SNAPPY, snappy.compress),
    "lz4, linked blocks with checksums": (
        Compression.LZ4,
        lambda body: lz4.frame.compress(body, block_linked=True, content_checksum=True),
    ),
    "zstd, no content size": (Compression.ZSTD, zstandard.ZstdCompressor(write_content_size=False).compress),
}


@pytest.mark.parametrize("variant", list(JAVA_AND_LIBRDKAFKA_BODIES))
def test_batches_compressed_by_other_producers_decode(variant):
    codec, encode = JAVA_AND_LIBRDKAFKA_BODIES[variant]
    records = sample_records()
    batch = rewritten(build_batch(records), body=encode(plain_body(records)), attributes=int(codec))
    assert decode_records(batch) == records


@given(records=record_lists(max_size=4), gap=st.integers(1, 50))
def test_offsets_are_absolute_even_when_the_batch_starts_before_its_first_record(records, gap):
    base = records[0].offset - gap
    batch = build_batch(records, base_offset=base)
    assert validate(batch).base_offset == base
    assert decode_records(batch) == records


@given(new_base=st.integers(0, 2**62))
def test_stamping_a_batch_moves_every_record_offset(new_base):
    records = sample_records(5)
    batch = build_batch(records, compression=Compression.LZ4)
    stamp(batch, 0, new_base, 3)
    assert [r.offset for r in decode_records(batch)] == [new_base + i for i in range(5)]


def test_log_append_time_gives_every_record_the_batch_timestamp():
    batch = rewritten(build_batch(sample_records(3)), attributes=0b1000, max_timestamp=T0 + 999)
    assert [r.timestamp for r in decode_records(batch)] == [T0 + 999] * 3


def test_records_of_a_batch_at_a_position_inside_a_buffer():
    first, second = build_batch(sample_records(2)), build_batch(sample_records(3), compression=Compression.ZSTD)
    assert len(decode_records(first + second, len(first))) == 3


def test_header_keys_that_are_not_utf8_round_trip_byte_for_byte():
    record = Record(0, T0, None, b"v", [("\udcff\udcfe", b"x")])
    batch = build_batch([record])
    assert b"\x04\xff\xfe\x02x" in batch
    assert decode_records(batch) == [record]


def test_decode_body_reads_a_batch_whose_crc_failed():
    batch = build_batch(sample_records(2))
    batch[17] ^= 0xFF
    with pytest.raises(CorruptBatchError, match="CRC"):
        decode_records(batch)
    assert len(decode_body(BatchHeader.parse(batch), batch[HEADER_SIZE:])) == 2


def malformed(body: bytes, count: int, attributes: int = 0) -> bytearray:
    return rewritten(build_batch(sample_records(1)), body=body, records_count=count, attributes=attributes)


def one_record(*fields: bytes) -> bytes:
    body = b"".join(fields)
    return encode_varint(len(body)) + body


GOOD = one_record(b"\x00", b"\x00", b"\x00", b"\x01", b"\x02v", b"\x00")


@pytest.mark.parametrize(
    ("batch", "problem"),
    [
        (malformed(GOOD, 2), "bad varint .* truncated"),
        (malformed(GOOD + GOOD, 1), "bytes remain after the 1 records"),
        (malformed(GOOD[:-1], 1), "claims 7 bytes, 6 remain"),
        (malformed(one_record(b"\x00\x00\x00", b"\x01", b"\x20v", b"\x00"), 1), "length 16 .* overruns"),
        (malformed(one_record(b"\x00\x00\x00", b"\x03", b"\x01", b"\x00"), 1), "length -2"),
        (malformed(one_record(b"\x00\x00\x00", b"\x01\x01\x02", b"\x01", b"\x00"), 1), "null key"),
        (malformed(one_record(b"\x00\x00\x00", b"\x01\x01", b"\x03"), 1), "negative header count"),
        (malformed(one_record(b"\x00\x00\x00", b"\x01\x01\x00", b"\x00"), 1), "fields end -1 bytes off"),
        (malformed(one_record(b"\x00\x00", b"\xff" * 6, b"\x01\x01\x00"), 1), "longer than 5 bytes"),
        (malformed(GOOD, 1, attributes=5), "unknown compression codec"),
        (malformed(b"\x1f\x8b not gzip at all", 1, attributes=1), "gzip data is corrupt"),
        (malformed(b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x09ab", 1, attributes=2), "overruns"),
    ],
)
def test_malformed_records_are_rejected_with_the_problem_named(batch, problem):
    with pytest.raises(CorruptBatchError, match=problem) as excinfo:
        decode_records(batch)
    assert excinfo.value.position == 0


def test_a_decompression_bomb_is_refused():
    records = [Record(0, T0, None, bytes(4 << 20))]
    batch = build_batch(records, compression=Compression.GZIP)
    assert len(batch) < 16 << 10
    with pytest.raises(CorruptBatchError, match="inflates past 1048576 bytes"):
        decode_records(batch, max_decompressed_size=1 << 20)
    assert decode_records(batch) == records


@pytest.mark.parametrize("codec", list(Compression))
@given(data=st.data())
def test_damaged_records_with_a_recomputed_crc_decode_or_raise_corrupt_batch_error(codec, data):
    """What a buggy producer could send: the CRC is right, the contents are not."""
    batch = build_batch(sample_records(4), compression=codec)
    body = bytearray(batch[HEADER_SIZE:])
    for _ in range(data.draw(st.integers(1, 3))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    body = body[: data.draw(st.integers(0, len(body)))]
    damaged = rewritten(batch, body=bytes(body), records_count=data.draw(st.integers(0, 2**31 - 1)))
    try:
        records = decode_records(damaged, max_decompressed_size=1 << 20)
    except CorruptBatchError:
        return
    assert len(records) == BatchHeader.parse(damaged).records_count


@given(body=st.binary(max_size=200), count=st.integers(0, 2**31 - 1), codec=st.sampled_from(list(Compression)))
def test_arbitrary_bytes_as_records_decode_or_raise_corrupt_batch_error(body, count, codec):
    try:
        decode_records(malformed(body, count, attributes=int(codec)), max_decompressed_size=1 << 20)
    except CorruptBatchError:
        pass


def test_build_refuses_what_it_cannot_encode():
    with pytest.raises(ValueError, match="at least one record"):
        build_batch([])
    with pytest.raises(ValueError, match="does not increase"):
        build_batch([Record(5, T0), Record(5, T0)])
    with pytest.raises(ValueError, match="does not increase"):
        build_batch([Record(5, T0)], base_offset=6)
    with pytest.raises(ValueError, match="int32"):
        build_batch([Record(0, T0), Record(2**31, T0)])
    with pytest.raises(ValueError, match="out of range"):
        build_batch([Record(0, T0)], producer_epoch=2**15)
    with pytest.raises(ValueError, match="int64"):
        build_batch([Record(0, -(2**63)), Record(1, 2**63 - 1)])


def test_compressed_batches_are_smaller_and_plain_ones_hold_the_body_as_is():
    records = sample_records()
    plain = build_batch(records)
    assert bytes(plain[HEADER_SIZE:]) == plain_body(records)
    for codec in (Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD):
        batch = build_batch(records, compression=codec)
        assert len(batch) < len(plain) // 2
        assert bytes(batch[HEADER_SIZE:]) == compress(codec, plain_body(records))
