"""The follower fetch as a fuzzing target: a leader broker whose partitions a real follower broker replicates
(a keeper of one, two `logquake broker` processes), fuzzed with what followers send: Fetch,
OffsetForLeaderEpoch and ListOffsets under the follower's replica id, the leader's own, others and
none, at the partitions' real leader epochs and beside them, at fetch offsets in and around the log.

Every frame is judged as in the broker campaign (broker_target.py: answers, internal errors, the
digest, the truth check), the follower's log and errors included. A fetch under the follower's id
is that follower's word: it moves the leader's view of the follower (its log end, when it was
last caught up, its ISR membership) and with it the high watermark, which never goes back. So
the real follower must keep replicating regardless: every TRUTH_EVERY batches its copy of the
fuzzed partitions equals the leader's, and at each real-client check (and at the end) the ISR is
whole again with the leader and epochs unchanged, an acks=all write (min.insync.replicas 2) is on
the follower's disk the moment it is acknowledged, it reads back, and every partition's copy
equals the leader's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kafka import KafkaProducer

from cluster.broker.controller.admin import create_topic
from cluster.broker.protocol.apis.fetch import FETCH
from cluster.broker.protocol.apis.list_offsets import LIST_OFFSETS
from cluster.broker.protocol.apis.offset_for_leader_epoch import OFFSET_FOR_LEADER_EPOCH
from cluster.broker.protocol.schema import Api
from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.keeper_ensemble import KeeperEnsemble
from cluster.deploy.status import read_view
from fuzzing import kafka_requests
from fuzzing.broker_target import CLIENT_TOPIC, FUZZED_BROKER_CONFIG, TRUTH_EVERY, BrokerTarget, segments_digest
from fuzzing.broker_truth import disk_offsets
from fuzzing.cases import BatchResult, Case
from fuzzing.keeper_tree import started_client, stopped
from fuzzing.server_log import LogWatch

LEADER, FOLLOWER = 1, 2
REPLICATED_TOPICS = ("fuzz-0", "fuzz-1")
"""One partition each, led by LEADER and replicated by FOLLOWER (kafka_requests.TOPICS without the expiring one)."""
PRELOADED = 200
"""Records written to each fuzzed partition before the campaign: what fetches read, and offsets to aim at."""
APIS: tuple[tuple[Api, int], ...] = ((FETCH, 6), (OFFSET_FOR_LEADER_EPOCH, 2), (LIST_OFFSETS, 1))
"""What followers send, and how often it is picked."""
SETTLE_S = 30.0
"""How long the ISR and the follower's log may take to be whole again after a batch, on a loaded machine."""
_PEER_CONFIG = {"zookeeper.session.timeout.ms": 20_000, "controlled.shutdown.timeout.ms": 2000}
"""A follower paused for a test (or starved by a loaded machine) keeps its place for 20 s; leaving sheds 2 s."""
_Found = TypeVar("_Found")


class BrokerFollowerTarget(BrokerTarget):
    name = "broker-follower"
    skip_reason = "they ask for long waits"

    def __init__(self, directory: Path) -> None:
        self.keeper = KeeperEnsemble("keeper", 1, directory / "keeper")
        peer = {**_PEER_CONFIG, "zookeeper.connect": self.keeper.connect_string}
        super().__init__(directory, **{**peer, "broker.id": LEADER})
        self.follower = BrokerProcess(directory / "follower", **{**FUZZED_BROKER_CONFIG, **peer, "broker.id": FOLLOWER})
        self.follower_log = LogWatch(self.follower.log_path)
        self.epochs: dict[str, int] = {}
        """Each topic's leader epoch when the campaign began; none may change."""
        self._choices: kafka_requests.Choices = {}

    def __enter__(self) -> BrokerFollowerTarget:
        try:
            self.keeper.start()
            self.follower.start()
            super().__enter__()
            self._preload()
            self.epochs = self._whole_epochs()
        except BaseException:
            self.__exit__()  # no server outlives a start that failed half-way
            raise
        epochs = sorted(set(self.epochs.values()))
        around = sorted({epoch + step for epoch in epochs for step in (-1, 1)} | {-1})
        ends = (0, 1, PRELOADED // 2, PRELOADED - 1, PRELOADED, PRELOADED, PRELOADED + 1, -1)
        self._choices = {
            "topic": (*REPLICATED_TOPICS, *REPLICATED_TOPICS, "fuzz-missing"),
            "name": (*REPLICATED_TOPICS, *REPLICATED_TOPICS, "fuzz-missing"),
            "replica_id": (FOLLOWER, FOLLOWER, FOLLOWER, FOLLOWER, LEADER, -1, 0, 3),
            "current_leader_epoch": (*epochs, *epochs, *epochs, *around),
            "leader_epoch": (*epochs, *around, 0),
            "fetch_offset": ends,
            "log_start_offset": (0, -1, PRELOADED),
            "partition": (0, 0, 0, 1),
            "max_bytes": (1 << 20, 1, 0, 100, 2**31 - 1),
            "partition_max_bytes": (1 << 20, 1, 0, 100, 5000),
        }
        self.follower_log.skip_to_end()
        self.log.skip_to_end()
        return self

    def _create_topics(self) -> None:
        """Straight into the keeper, as the controller's CreateTopics does, placed so that LEADER leads each."""
        client = started_client(self.keeper.connect_string)
        try:
            _wait_for(lambda: read_view(self.keeper.connect_string).live == {LEADER, FOLLOWER}, "both brokers registered")
            for name in (*REPLICATED_TOPICS, CLIENT_TOPIC):
                create_topic(client, name, {LEADER, FOLLOWER}, 1, 2, {"min.insync.replicas": "2"}, start_index=0)
        finally:
            stopped(client)

    def _preload(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.process.bootstrap, acks="all", linger_ms=5,
                                 request_timeout_ms=30_000)
        try:
            for topic in REPLICATED_TOPICS:
                for number in range(PRELOADED):
                    producer.send(topic, f"preloaded {number}".encode(), partition=0)
            producer.flush(timeout=60)
        finally:
            producer.close()

    def __exit__(self, *exc: object) -> None:
        try:
            self.follower.stop()
            super().__exit__(*exc)
        finally:
            self.keeper.close()

    def exit_code(self) -> int | None:
        codes = (self.process.exit_code(), self.follower.exit_code())
        return next((code for code in codes if code is not None), 1 if self.keeper.node(1).has_exited() else None)

    def new_errors(self) -> list[str]:
        return self.log.new_errors() + self.follower_log.new_errors()

    # --- cases ---------------------------------------------------------------------------------

    def next_case(self, rng: random.Random) -> Case:
        api = rng.choices([api for api, _ in APIS], [weight for _, weight in APIS])[0]
        version = rng.choice((api.max_version, rng.randint(api.min_version, api.max_version)))  # followers send the newest
        return self._case(api, version, rng, self._choices)

    # --- judging -------------------------------------------------------------------------------

    def run_batch(self, cases: list[Case], rng: random.Random) -> BatchResult:
        result = super().run_batch(cases, rng)
        if self._batches % TRUTH_EVERY == 0 and not result.problems:
            result.problems += [problem for topic in REPLICATED_TOPICS
                                if (problem := self._copy_problem(f"{topic}-0")) is not None]
        return result

    def digest(self) -> object:
        return super().digest(), segments_digest(self.follower.data_dir)

    def client_problem(self) -> str | None:
        """The ISR whole again and the leaders unchanged; then kafka-python's acks=all round trip
        (the follower holding the write when it is acknowledged), and the follower's copy of every partition
        equal to the leader's (this runs at the campaign's end too)."""
        try:
            self._whole_epochs()
        except Exception as error:  # the keeper unreadable, the ISR not whole: either is the finding
            return f"{type(error).__name__}: {error}"
        return super().client_problem() or next(
            (problem for topic in (*REPLICATED_TOPICS, CLIENT_TOPIC)
             if (problem := self._settled_copy_problem(f"{topic}-0")) is not None), None)

    def _acknowledged_problem(self, offset: int) -> str | None:
        _, end = disk_offsets(self.follower.data_dir / f"{CLIENT_TOPIC}-0")
        if end <= offset:
            return f"an acks=all write at offset {offset} was acknowledged before the follower held it (its log ends at {end})"
        return None

    # --- the follower ----------------------------------------------------------------------------

    def _whole_epochs(self) -> dict[str, int]:
        """The leader epoch of each topic's partition once LEADER leads it with both replicas in sync; a
        leadership or epoch changed since the campaign began is a failure (nothing here may cause one)."""

        def whole() -> dict[str, int] | None:
            states = {topic: read_view(self.keeper.connect_string).states.get((topic, 0))
                      for topic in (*REPLICATED_TOPICS, CLIENT_TOPIC)}
            if any(state is None or state.leader != LEADER or set(state.isr) != {LEADER, FOLLOWER}
                   for state in states.values()):
                return None
            return {topic: state.leader_epoch for topic, state in states.items() if state is not None}

        epochs = _wait_for(whole, "every fuzzed partition led by the leader with the follower in sync")
        if self.epochs and epochs != self.epochs:
            raise TimeoutError(f"leader epochs moved from {self.epochs} to {epochs}: a leadership changed")
        return epochs

    def _copy_problem(self, partition: str) -> str | None:
        """None when the follower's log of `partition` holds the same bytes as the leader's."""
        leader, follower = (_log_bytes(root / partition) for root in (self.process.data_dir, self.follower.data_dir))
        if leader == follower:
            return None
        return (f"the follower's copy of a partition differs from the leader's "
                f"({len(follower)} bytes against {len(leader)})")

    def _settled_copy_problem(self, partition: str) -> str | None:
        give_up = time.monotonic() + SETTLE_S
        while (problem := self._copy_problem(partition)) is not None and time.monotonic() < give_up:
            time.sleep(0.05)
        return problem


def _log_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.glob("*.log")))


def _wait_for(holds: Callable[[], _Found | None], what: str) -> _Found:
    give_up = time.monotonic() + SETTLE_S
    while not (found := holds()):
        if time.monotonic() > give_up:
            raise TimeoutError(f"not within {SETTLE_S:g} s: {what}")
        time.sleep(0.1)
    return found
