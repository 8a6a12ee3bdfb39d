"""File corruption on plain directories laid out as a broker's, keeper's and Apache ZooKeeper's data directories:
which files each kind names, and exactly what a bitflip or a truncation changes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis.corruption import content_end, corrupt, files_of_kind

BROKER_FILES = {
    "meta.properties": b"broker.id=1\n",
    "recovery-point-offset-checkpoint": b"0\n1\nqueue 0 12\n",
    "queue-0/00000000000000000000.log": b"\x01" * 100,
    "queue-0/00000000000000000000.index": b"\x02" * 16,
    "queue-0/00000000000000000000.timeindex": b"\x03" * 24,
    "queue-0/00000000000000000040.log": b"\x04" * 50,
    "queue-0/00000000000000000040.index": b"",
    "queue-0/00000000000000000090.log": b"\x05" * 10,
    "queue-0/leader-epoch-checkpoint": b"0\n1\n0 0\n",
    "queue-0/log-start-offset-checkpoint": b"0\n1\n0\n",
    "queue-1/00000000000000000000.log": b"\x06" * 30,
    "queue-2/00000000000000000000.log": b"",
}
KEEPER_FILES = {"myid": b"1\n", "raft.log": b"\x07" * 64, "raft.snapshot": b"\x08" * 32}
ZOOKEEPER_FILES = {"myid": b"2\n", "version-2/log.100000001": b"\x09" * 40 + b"\0" * 4096,
                   "version-2/snapshot.0": b"\x0a" * 20, "version-2/acceptedEpoch": b"1"}


def _lay_out(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize(("kind", "expected"), [
    ("closed-segment", ["queue-0/00000000000000000000.log", "queue-0/00000000000000000040.log"]),
    ("active-segment", ["queue-0/00000000000000000090.log", "queue-1/00000000000000000000.log"]),
    ("index", ["queue-0/00000000000000000000.index", "queue-0/00000000000000000000.timeindex"]),
    ("checkpoint", ["queue-0/leader-epoch-checkpoint", "queue-0/log-start-offset-checkpoint",
                    "recovery-point-offset-checkpoint"]),
    ("keeper-log", []),
])
def test_broker_kinds_name_its_files_with_content(tmp_path, kind, expected):
    data_dir = _lay_out(tmp_path, BROKER_FILES)
    assert [str(path) for path in files_of_kind(data_dir, kind)] == expected


@pytest.mark.parametrize(("files", "kind", "expected"), [
    (KEEPER_FILES, "keeper-log", ["raft.log"]),
    (KEEPER_FILES, "keeper-snapshot", ["raft.snapshot"]),
    (ZOOKEEPER_FILES, "keeper-log", ["version-2/log.100000001"]),
    (ZOOKEEPER_FILES, "keeper-snapshot", ["version-2/snapshot.0"]),
    (ZOOKEEPER_FILES, "closed-segment", []),
])
def test_keeper_kinds_name_keepers_and_zookeepers_files(tmp_path, files, kind, expected):
    assert [str(path) for path in files_of_kind(_lay_out(tmp_path, files), kind)] == expected


def test_only_the_content_of_a_preallocated_log_is_flipped(tmp_path):
    path = _lay_out(tmp_path, ZOOKEEPER_FILES) / "version-2/log.100000001"
    done = corrupt(path, "bitflip", 8, random.Random(1))
    assert done["how"] == "bitflip" and len(done["offsets"]) == 8
    assert all(offset < 40 for offset in done["offsets"])
    assert path.read_bytes()[40:] == b"\0" * 4096


@given(data=st.binary(min_size=0, max_size=600), count=st.integers(1, 700), seed=st.integers(0, 2**32))
def test_a_bitflip_changes_exactly_count_bits_in_distinct_bytes_of_the_content(tmp_path_factory, data, count, seed):
    path = _file(tmp_path_factory.mktemp("flip"), data)
    end = len(data.rstrip(b"\0"))
    done = corrupt(path, "bitflip", count, random.Random(seed))
    after = path.read_bytes()
    assert len(after) == len(data)
    flipped = [i for i, (a, b) in enumerate(zip(data, after)) if a != b]
    assert flipped == done["offsets"] and len(flipped) == min(count, end)
    assert all(bin(data[i] ^ after[i]).count("1") == 1 for i in flipped)
    assert all(i < end for i in flipped)
    assert done == corrupt(_file(tmp_path_factory.mktemp("file"), data), "bitflip", count, random.Random(seed))


@given(data=st.binary(min_size=0, max_size=600), count=st.integers(1, 700))
def test_a_truncation_cuts_exactly_count_bytes_off_the_content(tmp_path_factory, data, count):
    path = _file(tmp_path_factory.mktemp("file"), data)
    end = len(data.rstrip(b"\0"))
    done = corrupt(path, "truncate", count, random.Random(0))
    assert done == {"how": "truncate", "bytes": min(count, end)}
    assert path.read_bytes() == data[:end - min(count, end)]
    if not data.endswith(b"\0"):
        assert len(data) - path.stat().st_size == min(count, len(data))


@given(st.binary(max_size=200_000).map(lambda b: b + b"\0" * (len(b) % 70_000)))
def test_content_end_is_one_past_the_last_non_zero_byte(tmp_path_factory, data):
    assert content_end(_file(tmp_path_factory.mktemp("file"), data)) == len(data.rstrip(b"\0"))


def test_an_unknown_mode_is_refused(tmp_path):
    path = _file(tmp_path, b"abc")
    with pytest.raises(ValueError, match="unknown corruption mode 'shred'"):
        corrupt(path, "shred", 1, random.Random(0))


def _file(directory: Path, data: bytes) -> Path:
    path = directory / "file"
    path.write_bytes(data)
    return path
