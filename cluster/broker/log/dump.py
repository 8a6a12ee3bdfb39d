"""`logquake log dump`: what a segment file holds, batch by batch, like Kafka's kafka-dump-log.

It walks a file the way kafka-dump-log does: by each batch's length field.
A batch whose framing is sound but that fails validation (its CRC, a negative
count) is shown as invalid and the walk goes on to the position its length
points at (that length is outside the CRC, so every later batch is judged by
its own CRC, never by the first one's).
Framing that cannot be trusted (a torn tail, a length below the minimum, a
magic that is not 2) ends the walk of that file: nothing after it can be
located. Every problem gets its own line naming the byte position, and the
command exits 1 if there was any; Kafka's own recovery would truncate the
partition at the first of them.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from cluster.broker.protocol.record_batch import (
    HEADER_SIZE,
    MAGIC,
    MIN_BATCH_LENGTH,
    BatchHeader,
    CorruptBatchError,
    validate,
)
from cluster.broker.protocol.records import Record, decode_body

SEGMENT_SUFFIX = ".log"
_SHOWN_CHARACTERS = 64
_SHOWN_BYTES = 32

Buffer = bytes | mmap.mmap


@dataclass(frozen=True, slots=True)
class FramedBatch:
    """A batch whose length and magic can be trusted to locate it; `problem` says why it is invalid, if it is."""

    position: int
    header: BatchHeader
    problem: str | None

    @property
    def valid(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Unframeable:
    """Bytes at `position` that do not frame a batch; the rest of the file cannot be walked."""

    position: int
    reason: str


def walk(buf: Buffer) -> Iterator[FramedBatch | Unframeable]:
    """Every batch in a segment's bytes, in file order, ending with Unframeable if the framing breaks."""
    position = 0
    while position < len(buf):
        available = len(buf) - position
        header = BatchHeader.parse(buf, position) if available >= HEADER_SIZE else None
        problem = _framing_problem(header, available)
        if header is None or problem is not None:
            yield Unframeable(position, f"{problem}; the remaining {available} bytes cannot be read")
            return
        yield FramedBatch(position, header, _validity_problem(buf, position))
        position += header.size


def _validity_problem(buf: Buffer, position: int) -> str | None:
    try:
        validate(buf, position)
    except CorruptBatchError as error:
        return error.reason
    return None


def _framing_problem(header: BatchHeader | None, available: int) -> str | None:
    """What kafka-dump-log's reader also refuses: a batch that cannot be located or bounded."""
    if header is None:
        return f"torn batch: {available} bytes, fewer than a {HEADER_SIZE}-byte header"
    if header.batch_length < MIN_BATCH_LENGTH:
        return f"batch length {header.batch_length} is below the minimum of {MIN_BATCH_LENGTH}"
    if header.magic != MAGIC:
        return f"magic {header.magic}, expected {MAGIC}: not a v2 batch boundary"
    if header.size > available:
        return f"torn batch: its header says {header.size} bytes, only {available} are present"
    return None


def segment_files(path: Path) -> list[Path]:
    """A partition directory's segments in offset order, or the file itself."""
    if not path.is_dir():
        return [path]
    return sorted(path.glob(f"*{SEGMENT_SUFFIX}"), key=_segment_order)


def _segment_order(path: Path) -> tuple[bool, int, str]:
    base_offset = _base_offset(path)
    return base_offset is None, base_offset or 0, path.name


def _base_offset(path: Path) -> int | None:
    return int(path.stem) if path.stem.isdigit() else None


def dump_segment(path: Path, show_records: bool, echo: Callable[[str], None]) -> bool:
    """Prints the segment at `path`; returns whether everything in it was valid."""
    echo(f"Dumping {path}")
    base_offset = _base_offset(path)
    if base_offset is not None:
        echo(f"Log starting offset: {base_offset}")
    try:
        with path.open("rb") as file:
            if path.stat().st_size == 0:
                return True
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _dump_batches(buf, show_records, echo)
    except OSError as error:
        echo(f"error: cannot read {path}: {error.strerror or error}")
        return False


def _dump_batches(buf: Buffer, show_records: bool, echo: Callable[[str], None]) -> bool:
    valid = True
    for entry in walk(buf):
        if isinstance(entry, Unframeable):
            echo(f"error: position {entry.position}: {entry.reason}")
            return False
        echo(describe_batch(entry))
        if not entry.valid:
            valid = False
            echo(f"error: position {entry.position}: {entry.problem}; continuing where its length field points")
        if show_records:
            valid &= _dump_records(buf, entry, echo)
    return valid


def _dump_records(buf: Buffer, batch: FramedBatch, echo: Callable[[str], None]) -> bool:
    body = buf[batch.position + HEADER_SIZE : batch.position + batch.header.size]
    try:
        records = decode_body(batch.header, body, position=batch.position)
    except CorruptBatchError as error:
        echo(f"error: position {batch.position}: records cannot be decoded: {error.reason}")
        return False
    marker = "|" if batch.valid else "| UNVERIFIED (invalid batch)"
    timestamp_type = _timestamp_type(batch.header)
    for record in records:
        echo(f"{marker} {describe_record(record, timestamp_type)}")
    return True


def describe_batch(batch: FramedBatch) -> str:
    header = batch.header
    return (
        f"position: {batch.position} size: {header.size} baseOffset: {header.base_offset} "
        f"lastOffset: {header.last_offset} count: {header.records_count} "
        f"partitionLeaderEpoch: {header.partition_leader_epoch} baseTimestamp: {header.base_timestamp} "
        f"maxTimestamp: {header.max_timestamp} timestampType: {_timestamp_type(header)} "
        f"producerId: {header.producer_id} producerEpoch: {header.producer_epoch} "
        f"baseSequence: {header.base_sequence} isTransactional: {_flag(header.is_transactional)} "
        f"isControl: {_flag(header.is_control)} compresscodec: {_codec_name(header)} "
        f"crc: {header.crc:#010x} isvalid: {_flag(batch.valid)}"
    )


def describe_record(record: Record, timestamp_type: str) -> str:
    # Header keys that are not UTF-8 arrive surrogate-escaped; show their bytes like any other value.
    headers = ", ".join(
        f"{readable(key.encode('utf-8', 'surrogateescape'))}={readable(value)}" for key, value in record.headers
    )
    return (
        f"offset: {record.offset} {timestamp_type}: {record.timestamp} "
        f"key: {readable(record.key)} value: {readable(record.value)} headers: [{headers}]"
    )


def readable(data: bytes | None) -> str:
    """Printable UTF-8 as a quoted string, anything else as hex; long values truncated with their size."""
    if data is None:
        return "null"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        shown = json.dumps(text[:_SHOWN_CHARACTERS], ensure_ascii=False)
        return shown if len(text) <= _SHOWN_CHARACTERS else f"{shown}... ({len(data)} bytes)"
    shown = "0x" + data[:_SHOWN_BYTES].hex()
    return shown if len(data) <= _SHOWN_BYTES else f"{shown}... ({len(data)} bytes)"


def _timestamp_type(header: BatchHeader) -> str:
    return "LogAppendTime" if header.uses_log_append_time else "CreateTime"


def _codec_name(header: BatchHeader) -> str:
    try:
        return header.compression.name.lower()
    except ValueError:
        return f"unknown({header.attributes:#06x})"


def _flag(value: bool) -> str:
    return "true" if value else "false"


@click.command("dump")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--records", "show_records", is_flag=True, help="Also decode and print every record (compressed batches too).")
@click.pass_context
def dump(context: click.Context, paths: tuple[Path, ...], show_records: bool) -> None:
    """Print the batches in segment files, like Kafka's kafka-dump-log.

    PATH is a partition directory (all its .log segments, in offset order) or a
    segment file; files written by Apache Kafka read the same way. Exits 1 if
    any batch is corrupt, torn or fails its CRC.
    """
    valid = True
    for path in paths:
        segments = segment_files(path)
        if not segments:
            click.echo(f"error: {path} holds no {SEGMENT_SUFFIX} segment files")
            valid = False
        for segment in segments:
            valid &= dump_segment(segment, show_records, click.echo)
    context.exit(0 if valid else 1)
