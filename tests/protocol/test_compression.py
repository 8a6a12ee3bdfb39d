import gzip
import random
import struct

import lz4.block
import lz4.frame
import pytest
import snappy
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from kafka import codec as kafka_codec

from cluster.broker.protocol.compression import XERIAL_MAGIC, CompressionError, compress, decompress
from cluster.broker.protocol.record_batch import Compression

payloads = st.one_of(
    st.binary(min_size=1, max_size=2000),
    st.builds(lambda chunk, n: chunk * n, st.binary(min_size=1, max_size=40), st.integers(1, 3000)),
)

THIRD_PARTY_FRAMINGS = {
    "gzip, one member (Java, kafka-python)": (Compression.GZIP, lambda d: gzip.compress(d)),
    "gzip, two members": (Compression.GZIP, lambda d: gzip.compress(d[:7]) + gzip.compress(d[7:])),
    "snappy, xerial blocks (Java, kafka-python)": (Compression.SNAPPY, lambda d: kafka_codec.snappy_encode(d)),
    "snappy, xerial 1 KiB blocks": (Compression.SNAPPY, lambda d: kafka_codec.snappy_encode(d, xerial_blocksize=1024)),
    "snappy, raw (librdkafka, sarama)": (Compression.SNAPPY, lambda d: snappy.compress(d)),
    "lz4 frame, independent blocks (kafka-python)": (Compression.LZ4, lambda d: kafka_codec.lz4_encode(d)),
    "lz4 frame, linked blocks, checksums, content size": (
        Compression.LZ4,
        lambda d: lz4.frame.compress(d, block_linked=True, content_checksum=True, block_checksum=True, store_size=True),
    ),
    "zstd, content size in the frame": (Compression.ZSTD, lambda d: zstandard.ZstdCompressor().compress(d)),
    "zstd, no content size (streaming writers)": (
        Compression.ZSTD,
        lambda d: zstandard.ZstdCompressor(write_content_size=False).compress(d),
    ),
    "zstd, two frames": (
        Compression.ZSTD,
        lambda d: zstandard.ZstdCompressor().compress(d[:5]) + zstandard.ZstdCompressor().compress(d[5:]),
    ),
}

THIRD_PARTY_DECODERS = {
    Compression.GZIP: gzip.decompress,
    Compression.SNAPPY: kafka_codec.snappy_decode,
    Compression.LZ4: lz4.frame.decompress,
    Compression.ZSTD: kafka_codec.zstd_decode,
}


@pytest.mark.parametrize("codec", list(Compression))
@given(data=payloads)
def test_round_trip(codec, data):
    assert bytes(decompress(codec, compress(codec, data))) == data


@pytest.mark.parametrize("framing", list(THIRD_PARTY_FRAMINGS))
@given(data=payloads)
def test_every_framing_real_producers_write_decodes(framing, data):
    codec, encode = THIRD_PARTY_FRAMINGS[framing]
    assert bytes(decompress(codec, encode(data))) == data


@pytest.mark.parametrize("codec", list(THIRD_PARTY_DECODERS))
@given(data=payloads)
def test_other_libraries_read_what_we_write(codec, data):
    assert THIRD_PARTY_DECODERS[codec](compress(codec, data)) == data


def test_snappy_is_written_with_xerial_framing_like_the_java_client():
    data = b"kafka " * 20_000
    encoded = compress(Compression.SNAPPY, data)
    assert encoded.startswith(XERIAL_MAGIC + struct.pack(">ii", 1, 1))
    (first_block,) = struct.unpack_from(">i", encoded, 16)
    assert snappy.decompress(encoded[20 : 20 + first_block]) == data[: 32 * 1024]


def test_lz4_is_written_as_a_frame_of_independent_blocks_like_the_java_client():
    data = b"".join(b"record %d;" % i for i in range(30_000))
    encoded = compress(Compression.LZ4, data)
    flags, block_descriptor = encoded[4], encoded[5]
    assert encoded[:4] == struct.pack("<I", 0x184D2204)
    assert flags == 0b0110_0000, "version 1, independent blocks, no checksums, no content size"
    assert block_descriptor >> 4 == 4, "64 KiB maximum block size"
    position, chunks = 7, []
    while (length := struct.unpack_from("<I", encoded, position)[0]) != 0:
        block = encoded[position + 4 : position + 4 + length]
        chunks.append(lz4.block.decompress(block, uncompressed_size=64 << 10))
        position += 4 + length
    assert len(chunks) > 1 and all(len(chunk) == 64 << 10 for chunk in chunks[:-1])
    assert b"".join(chunks) == data, "each block decodes alone, as Kafka's Java reader requires"
    assert position + 4 == len(encoded)


def test_incompressible_lz4_blocks_are_stored_raw():
    data = random.Random(0).randbytes(5000)
    encoded = compress(Compression.LZ4, data)
    (first_block,) = struct.unpack_from("<I", encoded, 7)
    assert first_block == len(data) | 1 << 31
    assert lz4.frame.decompress(encoded) == data


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_a_decompression_bomb_is_refused_at_the_limit(codec):
    bomb = compress(codec, bytes(8 << 20))
    assert len(bomb) < 512 << 10
    with pytest.raises(CompressionError, match=str(1 << 20)):
        decompress(codec, bomb, max_size=1 << 20)
    assert len(decompress(codec, bomb, max_size=8 << 20)) == 8 << 20


def test_raw_snappy_claiming_a_huge_length_is_refused_before_allocating():
    claims_a_terabyte = b"\x80\x80\x80\x80\x80\x20" + b"\x00" * 10
    with pytest.raises(CompressionError):
        decompress(Compression.SNAPPY, claims_a_terabyte)


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
@given(data=st.data())
def test_damaged_compressed_data_decodes_or_raises_compression_error(codec, data):
    encoded = bytearray(compress(codec, b"some records " * 50))
    for _ in range(data.draw(st.integers(1, 4))):
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.integers(0, 255))
    encoded = encoded[: data.draw(st.integers(0, len(encoded)))]
    try:
        decompress(codec, encoded, max_size=1 << 20)
    except CompressionError:
        pass


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
@given(garbage=st.binary(max_size=64))
def test_garbage_raises_compression_error(codec, garbage):
    try:
        decompress(codec, garbage, max_size=1 << 20)
    except CompressionError:
        pass


def test_torn_xerial_stream_names_the_problem():
    encoded = compress(Compression.SNAPPY, b"abc" * 100)
    with pytest.raises(CompressionError, match="overruns"):
        decompress(Compression.SNAPPY, encoded[:-3])
    with pytest.raises(CompressionError, match="truncated"):
        decompress(Compression.SNAPPY, encoded + b"\x00\x00")
