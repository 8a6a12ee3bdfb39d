import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import snappy
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatchBuilder

from cluster.broker.log.config import LogConfig
from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.protocol.record_batch import HEADER_SIZE, Compression, crc_of, stamp
from cluster.broker.protocol.records import Record, build_batch
from logquake.cli import main

T0 = 1_700_000_000_000
BROKER_EPOCH = 3


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}.log"


def java_producer_batch(base_offset: int, values: list[bytes], codec: Compression) -> bytearray:
    """A batch as the Java producer sends it (producerId -1, xerial snappy / LZ4 frame), stamped by a broker."""
    records = [Record(i, T0 + i, b"key-%d" % i, value, [("source", b"java")]) for i, value in enumerate(values)]
    batch = build_batch(records, compression=codec)
    stamp(batch, 0, base_offset, BROKER_EPOCH)
    return batch


def kafka_python_batch(base_offset: int, values: list[bytes], codec: Compression) -> bytearray:
    builder = DefaultRecordBatchBuilder(2, codec, False, 1000, 0, 0, batch_size=1 << 20)
    for i, value in enumerate(values):
        builder.append(i, timestamp=T0 + i, key=None, value=value, headers=[])
    batch = builder.build()
    stamp(batch, 0, base_offset, BROKER_EPOCH)
    return batch


def librdkafka_snappy_batch(base_offset: int, values: list[bytes]) -> bytearray:
    """librdkafka compresses with raw snappy, no xerial framing."""
    plain = java_producer_batch(base_offset, values, Compression.NONE)
    batch = plain[:HEADER_SIZE] + snappy.compress(bytes(plain[HEADER_SIZE:]))
    batch[8:12] = (len(batch) - 12).to_bytes(4, "big")
    batch[21:23] = int(Compression.SNAPPY).to_bytes(2, "big")
    batch[17:21] = crc_of(batch, 0, len(batch)).to_bytes(4, "big")
    return batch


def repetitive(prefix: str, n: int) -> list[bytes]:
    return [f"{prefix}-{i} ".encode() * 8 for i in range(n)]


@pytest.fixture
def partition(tmp_path: Path) -> Path:
    """A partition directory like Kafka leaves it: two segments plus indexes and checkpoints the dump ignores."""
    directory = tmp_path / "events-0"
    directory.mkdir()
    first = (
        java_producer_batch(0, [b"plain-0", b"plain-1"], Compression.NONE)
        + java_producer_batch(2, repetitive("snappy", 3), Compression.SNAPPY)
        + java_producer_batch(5, repetitive("lz4", 2), Compression.LZ4)
    )
    (directory / segment_name(0)).write_bytes(first)
    second = (
        kafka_python_batch(7, repetitive("gzip", 2), Compression.GZIP)
        + kafka_python_batch(9, repetitive("zstd", 2), Compression.ZSTD)
        + librdkafka_snappy_batch(11, repetitive("raw", 2))
    )
    (directory / segment_name(7)).write_bytes(second)
    for name in (f"{0:020d}.index", f"{0:020d}.timeindex", "leader-epoch-checkpoint", "partition.metadata"):
        (directory / name).write_bytes(b"\x00" * 8)
    return directory


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["log", "dump", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def batch_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("position: ")]


def test_a_partition_directory_is_dumped_segment_by_segment_in_offset_order(partition):
    code, output = run(str(partition))
    assert code == 0, output
    assert output.index(segment_name(0)) < output.index(segment_name(7))
    assert "Log starting offset: 7" in output
    lines = batch_lines(output)
    assert [re.search(r"baseOffset: (\d+) lastOffset: (\d+)", line).groups() for line in lines] == [
        ("0", "1"), ("2", "4"), ("5", "6"), ("7", "8"), ("9", "10"), ("11", "12"),
    ]
    assert [re.search(r"compresscodec: (\w+)", line).group(1) for line in lines] == [
        "none", "snappy", "lz4", "gzip", "zstd", "snappy",
    ]
    assert all("isvalid: true" in line and f"partitionLeaderEpoch: {BROKER_EPOCH}" in line for line in lines)
    assert "producerId: -1 producerEpoch: -1 baseSequence: -1" in lines[0]
    assert "producerId: 1000 producerEpoch: 0 baseSequence: 0" in lines[3]
    assert f"position: 0 size: {len(java_producer_batch(0, [b'plain-0', b'plain-1'], Compression.NONE))}" in lines[0]
    assert "error" not in output and "| offset" not in output


def test_records_of_plain_and_compressed_batches_are_shown(partition):
    code, output = run(str(partition), "--records")
    assert code == 0, output
    assert f'| offset: 0 CreateTime: {T0} key: "key-0" value: "plain-0" headers: ["source"="java"]' in output
    assert '| offset: 3 CreateTime: 1700000000001 key: "key-1" value: "snappy-1 snappy-1' in output
    assert '| offset: 6 CreateTime: 1700000000001 key: "key-1" value: "lz4-1 lz4-1' in output
    assert '| offset: 10 CreateTime: 1700000000001 key: null value: "zstd-1 zstd-1' in output
    assert '| offset: 12 CreateTime: 1700000000001 key: "key-1" value: "raw-1 raw-1' in output
    assert len([line for line in output.splitlines() if line.startswith("| offset: ")]) == 13


def test_binary_and_long_values_are_shown_readably(tmp_path):
    records = [Record(0, T0, b"\x00\xff", b"x" * 500), Record(1, T0, None, bytes(range(200)), [("h", None)])]
    (tmp_path / segment_name(0)).write_bytes(build_batch(records))
    code, output = run(str(tmp_path / segment_name(0)), "--records")
    assert code == 0
    assert f'key: 0x00ff value: "{"x" * 64}"... (500 bytes)' in output
    assert f'key: null value: 0x{bytes(range(32)).hex()}... (200 bytes) headers: ["h"=null]' in output


def test_a_bad_crc_is_reported_and_the_walk_continues_like_kafka_dump_log(partition):
    path = partition / segment_name(0)
    data = bytearray(path.read_bytes())
    second_batch = data.index(b"\x82SNAPPY") - HEADER_SIZE
    data[second_batch + HEADER_SIZE + 20] ^= 0x01
    path.write_bytes(data)
    code, output = run(str(partition), "--records")
    assert code == 1
    lines = batch_lines(output)
    assert "isvalid: false" in lines[1] and all("isvalid: true" in line for i, line in enumerate(lines) if i != 1)
    assert re.search(f"error: position {second_batch}: CRC-32C 0x[0-9a-f]+ does not match stored", output)
    assert "| offset: 5 " in output, "the batch after the bad one is still shown"
    assert output.index(f"error: position {second_batch}") < output.index(segment_name(7))


def test_records_shown_from_a_batch_with_a_bad_crc_are_marked_unverified(tmp_path):
    batch = build_batch([Record(0, T0, None, b"hello")])
    batch[batch.index(b"hello") + 4] = ord("!")
    (tmp_path / segment_name(0)).write_bytes(batch)
    code, output = run(str(tmp_path), "--records")
    assert code == 1
    assert '| UNVERIFIED (invalid batch) offset: 0 CreateTime: 1700000000000 key: null value: "hell!"' in output


def test_a_torn_tail_prints_what_was_readable_then_the_problem(partition):
    path = partition / segment_name(7)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    code, output = run(str(partition))
    assert code == 1
    assert len(batch_lines(output)) == 5
    size = len(librdkafka_snappy_batch(11, repetitive("raw", 2)))
    position = len(data) - size
    assert f"error: position {position}: torn batch: its header says {size} bytes, only {size - 10} are present" in output


def test_garbage_ends_the_walk_of_that_file_and_the_next_file_is_still_dumped(partition):
    path = partition / segment_name(0)
    data = bytearray(path.read_bytes())
    data[16] = 1
    path.write_bytes(data)
    code, output = run(str(partition))
    assert code == 1
    assert f"error: position 0: magic 1, expected 2: not a v2 batch boundary; the remaining {len(data)} bytes" in output
    assert len(batch_lines(output)) == 3 and "Log starting offset: 7" in output


def test_a_negative_count_under_a_valid_crc_is_still_invalid(tmp_path):
    batch = build_batch([Record(0, T0, None, b"hello")])
    batch[57:61] = (-1).to_bytes(4, "big", signed=True)
    batch[17:21] = crc_of(batch, 0, len(batch)).to_bytes(4, "big")
    (tmp_path / segment_name(0)).write_bytes(batch + build_batch([Record(1, T0, None, b"next")]))
    code, output = run(str(tmp_path))
    assert code == 1
    assert "error: position 0: negative record count or offset delta; continuing" in output
    assert "baseOffset: 1 " in batch_lines(output)[1] and "isvalid: true" in batch_lines(output)[1]


def test_records_that_cannot_be_decoded_are_reported_even_with_a_valid_crc(tmp_path):
    batch = build_batch([Record(0, T0, None, b"hello")], compression=Compression.GZIP)
    batch[HEADER_SIZE + 12] ^= 0xFF
    batch[17:21] = crc_of(batch, 0, len(batch)).to_bytes(4, "big")
    (tmp_path / segment_name(0)).write_bytes(batch)
    assert run(str(tmp_path))[0] == 0, "without --records only framing and CRC are checked"
    code, output = run(str(tmp_path), "--records")
    assert code == 1
    assert "error: position 0: records cannot be decoded: gzip data is corrupt" in output


def test_empty_segments_are_valid_and_empty_directories_are_not(tmp_path):
    (tmp_path / "p-0").mkdir()
    (tmp_path / "p-0" / segment_name(0)).write_bytes(b"")
    assert run(str(tmp_path / "p-0")) == (0, f"Dumping {tmp_path / 'p-0' / segment_name(0)}\nLog starting offset: 0\n")
    (tmp_path / "p-1").mkdir()
    code, output = run(str(tmp_path / "p-1"))
    assert code == 1 and "holds no .log segment files" in output


def test_unreadable_files_are_reported_and_the_rest_dumped(tmp_path, partition):
    unreadable = tmp_path / segment_name(99)
    unreadable.mkdir()
    code, output = run(str(unreadable / ".."), str(partition / segment_name(7)))
    assert code == 1
    assert f"error: cannot read {unreadable}" in output
    assert len(batch_lines(output)) == 3


OUTSIDE_LENGTH_AND_CRC = set(range(0, 8)) | set(range(12, 16))
"""baseOffset and partitionLeaderEpoch: the only header bytes a broker may rewrite without the CRC noticing."""


@settings(max_examples=40)
@given(data=st.data())
def test_damage_is_always_reported_and_never_crashes_the_dump(data):
    batches = [java_producer_batch(0, repetitive("a", 3), Compression.LZ4), kafka_python_batch(3, [b"b"], Compression.NONE)]
    segment = b"".join(batches)
    damaged = bytearray(segment)
    for _ in range(data.draw(st.integers(0, 3))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    damaged = damaged[: data.draw(st.sampled_from([len(segment), len(batches[0]), data.draw(st.integers(0, len(segment)))]))]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / segment_name(0)
        path.write_bytes(damaged)
        code, output = run(str(path), "--records")
    assert (code == 1) == ("error: " in output)
    torn = len(damaged) not in (0, len(batches[0]), len(segment))
    changed = {p if p < len(batches[0]) else p - len(batches[0]) for p in range(len(damaged)) if damaged[p] != segment[p]}
    if torn or changed - OUTSIDE_LENGTH_AND_CRC:
        assert code == 1, output
    else:
        assert code == 0, output


def test_segments_written_by_our_partition_log_dump_clean(tmp_path):
    log = PartitionLog.open(tmp_path / "t-0", LogConfig(segment_bytes=300))
    for i in range(6):
        log.append(java_producer_batch(0, repetitive(f"v{i}", 2), Compression(i % 5)), leader_epoch=BROKER_EPOCH)
    log.close()
    code, output = run(str(tmp_path / "t-0"), "--records")
    assert code == 0, output
    assert output.count("Dumping ") == len(log.segment_base_offsets) > 1
    offsets = [int(m) for m in re.findall(r"^\| offset: (\d+)", output, re.MULTILINE)]
    assert offsets == list(range(12))


def test_the_installed_console_script_dumps_a_partition(partition):
    script = Path(sys.executable).parent / "logquake"
    completed = subprocess.run(
        [str(script), "log", "dump", str(partition), "--records"], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert '| offset: 0 CreateTime: 1700000000000 key: "key-0" value: "plain-0"' in completed.stdout
    (partition / segment_name(7)).write_bytes(b"\x00" * 100)
    completed = subprocess.run([str(script), "log", "dump", str(partition)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 1
    assert "error: position 0: batch length 0 is below the minimum of 49" in completed.stdout
