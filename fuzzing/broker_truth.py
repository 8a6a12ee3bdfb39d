"""The broker's answers about its logs held against the logs on disk, between batches.

A fuzzed request's answer is checked for its form (kafka_judge.py); whether it is *right* needs
the truth, and the log directory holds it: a topic exists when its partition directories do, a
partition's log starts at its first segment (or the log start checkpoint, if later) and ends after
its last batch. The harness asks, on a connection of its own, a Metadata for every topic and a
ListOffsets earliest (-2) and latest (-1) for every partition of the fuzzed topics that keep
their data, and compares. A single broker holding each partition alone advances its high
watermark as it appends, so latest is the log's end. Topic creation and deletion reach the disk
after their answer (through the controller): the two must agree within a few seconds.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from cluster.broker.log.dump import FramedBatch, segment_files, walk
from cluster.broker.log.layout import read_log_start_offset
from cluster.broker.protocol.apis.list_offsets import LIST_OFFSETS, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic
from cluster.broker.protocol.apis.metadata import METADATA, MetadataRequest
from cluster.broker.protocol.schema import Api
from cluster.deploy.ports import HOST
from fuzzing import kafka_requests
from fuzzing.batch_reading import deadline_after
from fuzzing.connection import CLOSED, Connection, NoAnswer

EARLIEST, LATEST = -2, -1
_PARTITION_DIRECTORY = re.compile(r"(?P<topic>.+)-(?P<index>\d+)")
_KEPT_TOPICS = tuple(topic for topic in kafka_requests.TOPICS if topic != kafka_requests.EXPIRING_TOPIC)
"""Their data never expires (retention.ms -1): what the log holds is what ListOffsets must say."""


class BrokerTruth:
    def __init__(self, port: int, data_dir: Path, agree_within_s: float = 5.0) -> None:
        self._port = port
        self._data_dir = data_dir
        self._agree_within_s = agree_within_s

    def problems(self) -> list[str]:
        """What the broker says that the disk contradicts, once they had a few seconds to agree."""
        give_up = time.monotonic() + self._agree_within_s
        while True:
            try:
                found = self._disagreements()
            except (NoAnswer, ConnectionError) as error:
                return [f"the harness's own Metadata and ListOffsets got no answer: {error}"]
            if not found or time.monotonic() > give_up:
                return found
            time.sleep(0.05)

    def _disagreements(self) -> list[str]:
        on_disk = self._disk_topics()
        kept = [topic for topic in _KEPT_TOPICS if topic in on_disk]
        questions: list[tuple[Api, object]] = [(METADATA, MetadataRequest(topics=None))]
        for topic in kept:
            for timestamp in (EARLIEST, LATEST):
                partitions = [ListOffsetsPartition(partition_index=index, timestamp=timestamp) for index in range(on_disk[topic])]
                questions.append((LIST_OFFSETS, ListOffsetsRequest(replica_id=-1, topics=[ListOffsetsTopic(name=topic, partitions=partitions)])))
        metadata, *offsets = self._ask(questions)
        listed = {topic.name for topic in metadata.topics if not topic.name.startswith("__") and topic.error_code == 0}
        if listed != set(on_disk):
            return [f"Metadata lists topics {sorted(listed - set(on_disk))} the log dir does not hold, and not "
                    f"{sorted(set(on_disk) - listed)} it holds"]
        problems = []
        for response, (topic, timestamp) in zip(offsets, [(topic, t) for topic in kept for t in (EARLIEST, LATEST)]):
            for answer in response.topics[0].partitions:
                start, end = disk_offsets(self._data_dir / f"{topic}-{answer.partition_index}")
                truth = start if timestamp == EARLIEST else end
                if answer.error_code != 0 or answer.offset != truth:
                    which = "earliest" if timestamp == EARLIEST else "latest"
                    problems.append(f"ListOffsets {which} of a partition said {answer.offset} (error {answer.error_code}), "
                                    f"its log says {truth}")
        return problems

    def _disk_topics(self) -> dict[str, int]:
        """Topic name -> partition count, for every topic with partition directories (the broker's own aside)."""
        counts: dict[str, int] = {}
        for entry in self._data_dir.iterdir():
            match = _PARTITION_DIRECTORY.fullmatch(entry.name)
            if entry.is_dir() and match and not match["topic"].startswith("__"):
                counts[match["topic"]] = counts.get(match["topic"], 0) + 1
        return counts

    def _ask(self, questions: list[tuple[Api, object]]) -> list:
        """The answers to the harness's own requests, pipelined on a connection of their own, in order."""
        connection = Connection(HOST, self._port)
        try:
            connection.send(b"".join(kafka_requests.framed_request(api, 1, at, body)
                                     for at, (api, body) in enumerate(questions)))
            deadline = deadline_after(0)
            payloads = [connection.read_frame(deadline) for _ in questions]
        finally:
            connection.close()
        if CLOSED in payloads:
            raise ConnectionError("the broker closed the connection on the harness's own requests")
        return [api.response_codecs[1].decode(payload, 4) for (api, _), payload in zip(questions, payloads)]


def disk_offsets(directory: Path) -> tuple[int, int]:
    """(log start, log end) from a partition's segments: the end is one past the last batch's last offset,
    or the last segment's base when it holds none."""
    segments = segment_files(directory)
    if not segments:
        return read_log_start_offset(directory), read_log_start_offset(directory)
    start = max(int(segments[0].stem), read_log_start_offset(directory))
    for segment in reversed(segments):
        batches = [batch for batch in walk(segment.read_bytes()) if isinstance(batch, FramedBatch)]
        if batches:
            return start, batches[-1].header.base_offset + batches[-1].header.last_offset_delta + 1
    return start, int(segments[-1].stem)
