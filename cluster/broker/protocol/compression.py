"""The four RecordBatch v2 codecs, in every framing real producers emit.

A compressed batch holds all its records as one compressed block after the
61-byte header. Encoding follows the Java client's framing, because every
other client and broker reads what it writes:

- gzip: one gzip member (level 6, the zlib default the JVM uses).
- snappy: xerial framing (magic b"\\x82SNAPPY\\x00", version 1, compat 1,
  then big-endian-length-prefixed raw snappy blocks of 32 KiB input), as
  snappy-java's SnappyOutputStream and kafka-python write it. librdkafka and
  sarama write plain raw snappy instead; both decode.
- lz4: the standard LZ4 frame with independent 64 KiB blocks and no
  checksums. Kafka's Java reader rejects linked blocks, which is what most LZ4
  libraries (cramjam included) write by default, so the frame is built here.
- zstd: one zstd frame at level 3 (Kafka's default).

Decoding is bounded: a small batch that inflates past `max_size` (a
decompression bomb, or garbage) is refused instead of exhausting memory.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial

import cramjam

from cluster.broker.protocol.record_batch import Compression

Buffer = bytes | bytearray | memoryview

DEFAULT_MAX_DECOMPRESSED_SIZE = 64 << 20
"""Kafka caps a batch at about 1 MiB compressed; 64x that is far past any honest ratio for real records."""

XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK_INPUT = 32 << 10
_BLOCK_LENGTH = struct.Struct(">i")

_LZ4_FRAME_HEADER = struct.pack("<I", 0x184D2204) + bytes([0x60, 0x40, 0x82])
"""Magic, FLG (version 1, independent blocks), BD (64 KiB blocks), and HC = (xxh32(FLG, BD) >> 8) & 0xFF."""
_LZ4_BLOCK_INPUT = 64 << 10
_LZ4_UNCOMPRESSED = 1 << 31
_LZ4_LENGTH = struct.Struct("<I")

_GZIP_LEVEL = 6
_ZSTD_LEVEL = 3
_FIRST_GUESS = 64 << 10


class CompressionError(ValueError):
    """Compressed records that cannot be decompressed within the size bound."""


def compress(codec: Compression, data: Buffer) -> bytes:
    """Compresses a batch's serialized records with `codec` (NONE returns them unchanged)."""
    try:
        encode = _ENCODERS[codec]
    except KeyError:
        raise ValueError(f"unknown compression codec {codec!r}") from None
    return encode(data)


def decompress(codec: Compression, data: Buffer, max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> memoryview:
    """Inflates `data`, refusing anything corrupt or larger than `max_size` with CompressionError."""
    try:
        decode = _DECODERS[codec]
    except KeyError:
        raise CompressionError(f"unknown compression codec {codec!r}") from None
    try:
        return decode(data, max_size)
    except cramjam.DecompressionError as error:
        raise CompressionError(f"{Compression(codec).name.lower()} data is corrupt: {error}") from None


def _bounded(name: str, decompress_into: Callable[[Buffer, bytearray], int], data: Buffer, max_size: int) -> memoryview:
    """Decompresses into a buffer that grows fourfold up to `max_size`.

    Neither gzip, LZ4 frames nor zstd frames reliably state their inflated
    size up front, and a library call without an output bound is a bomb.
    Writing into a fixed buffer fails when it fills, so a too-small guess costs
    one retry and corruption costs at most a few.
    """
    size = min(max_size, max(_FIRST_GUESS, 4 * len(data)))
    while True:
        out = bytearray(size)
        try:
            written = decompress_into(data, out)
        except cramjam.DecompressionError as error:
            if size >= max_size:
                raise CompressionError(f"{name} data is corrupt or inflates past {max_size} bytes: {error}") from None
            size = min(max_size, 4 * size)
            continue
        return memoryview(out)[:written]


def _snappy(data: Buffer, max_size: int) -> memoryview:
    if bytes(data[: len(XERIAL_MAGIC)]) == XERIAL_MAGIC:
        return _xerial_blocks(memoryview(data), max_size)
    return _raw_snappy(data, max_size)


def _raw_snappy(data: Buffer, max_size: int, inflated_before: int = 0) -> memoryview:
    """Raw snappy states its inflated length up front: check it before allocating."""
    size = cramjam.snappy.decompress_raw_len(data)
    if inflated_before + size > max_size:
        raise CompressionError(f"snappy data inflates past the limit of {max_size} bytes")
    out = bytearray(size)
    written = cramjam.snappy.decompress_raw_into(data, out)
    return memoryview(out)[:written]


def _xerial_blocks(data: memoryview, max_size: int) -> memoryview:
    """Decodes xerial framing; like snappy-java, a repeated header (concatenated streams) is skipped.

    The version and compat fields are ignored: some producers write them
    little-endian, and there has only ever been one xerial block format.
    """
    blocks: list[memoryview] = []
    total = 0
    position = 0
    while position < len(data):
        if bytes(data[position : position + len(XERIAL_MAGIC)]) == XERIAL_MAGIC:
            position += len(_XERIAL_HEADER)
            continue
        if position + _BLOCK_LENGTH.size > len(data):
            raise CompressionError(f"xerial snappy block length truncated at byte {position}")
        (length,) = _BLOCK_LENGTH.unpack_from(data, position)
        position += _BLOCK_LENGTH.size
        if length < 0 or position + length > len(data):
            raise CompressionError(f"xerial snappy block of {length} bytes at byte {position} overruns the data")
        block = _raw_snappy(data[position : position + length], max_size, total)
        total += len(block)
        blocks.append(block)
        position += length
    return memoryview(b"".join(blocks))


def _xerial_snappy(data: Buffer) -> bytes:
    view = memoryview(data)
    out = bytearray(_XERIAL_HEADER)
    for start in range(0, len(view), _XERIAL_BLOCK_INPUT):
        block = cramjam.snappy.compress_raw(view[start : start + _XERIAL_BLOCK_INPUT])
        out += _BLOCK_LENGTH.pack(len(block))
        out += block
    return bytes(out)


def _lz4_frame(data: Buffer) -> bytes:
    view = memoryview(data)
    out = bytearray(_LZ4_FRAME_HEADER)
    for start in range(0, len(view), _LZ4_BLOCK_INPUT):
        chunk = view[start : start + _LZ4_BLOCK_INPUT]
        block = cramjam.lz4.compress_block(chunk, store_size=False)
        if len(block) < len(chunk):
            out += _LZ4_LENGTH.pack(len(block))
            out += block
        else:
            out += _LZ4_LENGTH.pack(len(chunk) | _LZ4_UNCOMPRESSED)
            out += chunk
    out += _LZ4_LENGTH.pack(0)
    return bytes(out)


_ENCODERS: dict[Compression, Callable[[Buffer], bytes]] = {
    Compression.NONE: bytes,
    Compression.GZIP: lambda data: bytes(cramjam.gzip.compress(data, level=_GZIP_LEVEL)),
    Compression.SNAPPY: _xerial_snappy,
    Compression.LZ4: _lz4_frame,
    Compression.ZSTD: lambda data: bytes(cramjam.zstd.compress(data, level=_ZSTD_LEVEL)),
}

_DECODERS: dict[Compression, Callable[[Buffer, int], memoryview]] = {
    Compression.NONE: lambda data, max_size: memoryview(data),
    Compression.GZIP: partial(_bounded, "gzip", cramjam.gzip.decompress_into),
    Compression.SNAPPY: _snappy,
    Compression.LZ4: partial(_bounded, "lz4", cramjam.lz4.decompress_into),
    Compression.ZSTD: partial(_bounded, "zstd", cramjam.zstd.decompress_into),
}
