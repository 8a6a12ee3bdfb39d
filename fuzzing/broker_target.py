"""The broker as a fuzzing target: a real `logquake broker` process, Kafka frames, kafka-python as the real client."""

from __future__ import annotations

import random
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from cluster.broker.protocol.apis.api_versions import API_VERSIONS, ApiVersionsRequest
from cluster.broker.protocol.schema import Api
from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.ports import HOST
from fuzzing import kafka_requests
from fuzzing.batch_reading import MAY_STAY_SILENT, MUST_ANSWER, MUST_CLOSE, Awaited, deadline_after, read_answers
from fuzzing.broker_truth import BrokerTruth
from fuzzing.byte_mutations import mutate
from fuzzing.cases import BatchResult, Case
from fuzzing.connection import Connection
from fuzzing.kafka_judge import (
    GROUP_MAX_SESSION_TIMEOUT_MS,
    REPLICA_FETCH_WAIT_MAX_MS,
    Expect,
    Expectation,
    correlation_of,
    expectation,
    judge_answer,
    may_write,
)
from fuzzing.server_log import LogWatch

MAX_WAIT_MS = 1500
"""A frame asking the broker to hold its answer longer is not sent (it would only slow the fuzzer down)."""
CLIENT_TOPIC = "fuzz-client"
FENCE_ID = -7
EXPIRING = {"retention.ms": "1000", "segment.ms": "500"}
_RULES = {Expect.ANSWER: MUST_ANSWER, Expect.REFUSE_WITH_VERSIONS: MUST_ANSWER, Expect.SILENT: MAY_STAY_SILENT,
          Expect.REFUSE: MUST_CLOSE}
_NOT_A_CORRELATION_ID = -(2**40)
TRUTH_EVERY = 10
"""Batches between comparisons of the broker's Metadata and ListOffsets answers with its log dir."""
FUZZED_BROKER_CONFIG: dict[str, object] = {
    "auto.create.topics.enable": "false",
    "group.min.session.timeout.ms": 10,
    "group.max.session.timeout.ms": GROUP_MAX_SESSION_TIMEOUT_MS,
    "replica.fetch.wait.max.ms": REPLICA_FETCH_WAIT_MAX_MS,
    "log.retention.check.interval.ms": 500,
    "log.retention.ms": -1,  # records carry fixed 2026 timestamps: only the expiring topic may lose them
}
"""What every fuzzed broker runs with: short waits the judge can bound, topics only where the harness made them."""


class BrokerTarget:
    name = "broker"
    batch_size = 8
    skip_reason = "they ask for long waits"

    def __init__(self, directory: Path, **overrides: object) -> None:
        self.directory = directory
        self.process = BrokerProcess(directory / "data", **{**FUZZED_BROKER_CONFIG, **overrides})
        self.log = LogWatch(self.process.log_path)
        self.skipped = 0
        """Frames not sent because they ask the broker to wait longer than MAX_WAIT_MS."""
        self._correlation = 0
        self._connection: Connection | None = None
        self._fence = kafka_requests.framed_request(API_VERSIONS, 2, FENCE_ID, ApiVersionsRequest())
        self._batches = 0

    def __enter__(self) -> BrokerTarget:
        self.process.start()
        self._create_topics()
        self.log.skip_to_end()
        return self

    def _create_topics(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.process.bootstrap, request_timeout_ms=10_000)
        try:
            admin.create_topics([
                NewTopic(name, 2, 1, topic_configs=EXPIRING if name == kafka_requests.EXPIRING_TOPIC else {})
                for name in (*kafka_requests.TOPICS, CLIENT_TOPIC)
            ])
        finally:
            admin.close()

    def __exit__(self, *exc: object) -> None:
        if self._connection is not None:
            self._connection.close()
        self.process.stop()

    def exit_code(self) -> int | None:
        return self.process.exit_code()

    def new_errors(self) -> list[str]:
        return self.log.new_errors()

    # --- cases ---------------------------------------------------------------------------------

    def next_case(self, rng: random.Random) -> Case:
        """A third plausible, a third with one field made hurtful, a third mutated byte by byte."""
        api, version = rng.choice(kafka_requests.apis_and_versions())
        return self._case(api, version, rng)

    def _case(self, api: Api, version: int, rng: random.Random, choices: kafka_requests.Choices | None = None) -> Case:
        self._correlation = (self._correlation + 1) % (1 << 31)
        roll = rng.random()
        built = kafka_requests.build(api, version, self._correlation, rng, 0.33 <= roll < 0.66, choices)
        label = f"{api.name} v{version}" + (f" field {built.mutated_field}" if built.mutated_field else "")
        slow = rng.random() < 0.02
        if roll < 0.66:
            return Case(built.frame, True, label, slow)
        mutated = mutate(built.frame, rng)
        return Case(mutated.data, mutated.framed, f"{label}, {mutated.kind}", slow)

    def ends_connection(self, case: Case) -> bool:
        return not case.framed or expectation(case.data[4:]).expect in (Expect.REFUSE, Expect.SILENT)

    # --- judging -------------------------------------------------------------------------------

    def run_batch(self, cases: list[Case], rng: random.Random) -> BatchResult:
        """On a connection kept from batch to batch until a case ends it (or a problem shows)."""
        result = BatchResult()
        expected = [expectation(case.data[4:]) if case.framed else None for case in cases]
        sendable = [(case, due) for case, due in zip(cases, expected) if due is None or due.wait_ms <= MAX_WAIT_MS]
        self.skipped += len(cases) - len(sendable)
        if not sendable:
            return result
        if self._connection is None:
            self._connection = Connection(HOST, self.process.port)
        connection = self._connection
        for case, _ in sendable:
            if not connection.send(case.data, rng, case.slow):
                break
        ends = self.ends_connection(sendable[-1][0])
        if ends:
            connection.end_input()
        else:
            connection.send(self._fence)
        awaited = [self._awaited(due, result) for _, due in sendable if due is not None]
        if not ends:
            awaited.append(Awaited(MUST_ANSWER, FENCE_ID, "the fence, ApiVersions v2", lambda payload: []))
        result.wrote |= not sendable[-1][0].framed or any(
            due is not None and due.expect is Expect.SILENT and may_write(due) for _, due in sendable)
        wait_ms = sum(due.wait_ms for _, due in sendable if due is not None)
        result.problems += read_answers(connection, awaited, _answer_id, deadline_after(wait_ms), ends)
        if ends or result.problems:
            connection.close()
            self._connection = None
        self._batches += 1
        if self._batches % TRUTH_EVERY == 0 and not result.problems:
            result.problems += BrokerTruth(self.process.port, self.directory / "data").problems()
        return result

    def _awaited(self, due: Expectation, result: BatchResult) -> Awaited:
        def judge(payload: bytes) -> list[str]:
            problems, accepted = judge_answer(due, payload)
            result.wrote |= accepted and may_write(due)
            return problems

        return Awaited(_RULES[due.expect], due.correlation_id or 0, due.label, judge)

    # --- stored data and a real client ---------------------------------------------------------

    def digest(self) -> object:
        return segments_digest(self.directory / "data")

    def client_problem(self) -> str | None:
        """kafka-python produces a record and reads it back from where it was written."""
        marker = f"fuzz-{self._correlation}".encode()
        try:
            producer = KafkaProducer(bootstrap_servers=self.process.bootstrap, acks="all", request_timeout_ms=10_000)
            try:
                written = producer.send(CLIENT_TOPIC, marker, partition=0).get(timeout=15)
                acknowledged = self._acknowledged_problem(written.offset)  # at once: a replica catches up in ms
            finally:
                producer.close()
            if acknowledged is not None:
                return acknowledged
            consumer = KafkaConsumer(bootstrap_servers=self.process.bootstrap, enable_auto_commit=False)
            try:
                partition = TopicPartition(CLIENT_TOPIC, 0)
                consumer.assign([partition])
                consumer.seek(partition, written.offset)
                records = consumer.poll(timeout_ms=10_000, max_records=1).get(partition, [])
            finally:
                consumer.close()
        except Exception as error:  # any failure of the real client is the finding, whatever its type
            return f"kafka-python failed: {type(error).__name__}: {error}"
        if not records or records[0].value != marker:
            return f"kafka-python read {records[:1]} back at offset {written.offset}, not {marker!r}"
        return None

    def _acknowledged_problem(self, offset: int) -> str | None:
        """What is wrong, the moment an acks=all write at `offset` was acknowledged (nothing, for one broker)."""
        return None


def segments_digest(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Every non-empty segment file of the fuzzed topics: name, size and mtime."""
    found = {}
    for path in sorted(data_dir.glob("*/*.log")):
        if path.parent.name.startswith(("__", kafka_requests.EXPIRING_TOPIC)):
            continue  # the broker's own topics, and the one whose data expires by itself
        stat = path.stat()
        if stat.st_size:
            found[f"{path.parent.name}/{path.name}"] = (stat.st_size, stat.st_mtime_ns)
    return found


def _answer_id(payload: bytes) -> int:
    found = correlation_of(payload)
    return _NOT_A_CORRELATION_ID if found is None else found
