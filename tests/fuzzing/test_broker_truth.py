"""The broker fuzzer's truth check: Metadata and ListOffsets answers held against the log dir. A real broker
after plausible produces agrees with its own disk; a log dir that holds another topic, or less data,
than the broker says is reported."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.broker.protocol.apis import ApiKey
from fuzzing import kafka_requests
from fuzzing.broker_target import BrokerTarget
from fuzzing.broker_truth import BrokerTruth
from fuzzing.cases import Case


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerTarget]:
    with BrokerTarget(tmp_path_factory.mktemp("broker")) as target:
        rng = random.Random(4)
        produce = [(api, version) for api, version in kafka_requests.apis_and_versions() if api.key == ApiKey.PRODUCE]
        for correlation in range(40):
            built = kafka_requests.build(*rng.choice(produce), correlation, rng, mutate_field=False)
            assert target.run_batch([Case(built.frame, True, "produce")], rng).problems == []
        yield target


def test_the_broker_agrees_with_its_log_dir(broker: BrokerTarget) -> None:
    assert BrokerTruth(broker.process.port, broker.directory / "data").problems() == []


def test_a_log_dir_holding_another_topic_or_less_data_is_reported(broker: BrokerTarget, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(broker.directory / "data", copy)
    (copy / "fuzz-ghost-0").mkdir()
    assert any("Metadata" in problem for problem in BrokerTruth(broker.process.port, copy, agree_within_s=0).problems())
    shutil.rmtree(copy / "fuzz-ghost-0")
    written = max((copy / f"fuzz-{topic}-{index}" for topic in (0, 1) for index in (0, 1)),
                  key=lambda partition: sum(path.stat().st_size for path in partition.glob("*.log")))
    for segment in written.glob("*.log"):
        segment.write_bytes(b"")
    assert any("latest" in problem for problem in BrokerTruth(broker.process.port, copy, agree_within_s=0).problems())
