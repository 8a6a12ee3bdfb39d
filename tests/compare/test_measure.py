"""`logquake compare`'s measures on constructed histories of both systems, checked by the real checkers, and its
table; the command's plan and bad input."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from harness.history import pair
from logquake.cli import main
from logquake.compare.measure import measure
from logquake.compare.table import as_markdown, as_text
from tests.checkers.histories import TEST as KAFKA_TEST
from tests.checkers.histories import History, verdict
from tests.checkers.test_total_queue import TEST as AMQP_TEST
from tests.checkers.test_total_queue import AmqpHistory


def _fault(h: History, fault: str) -> None:
    h.op("nemesis", f"start-{fault}", "minority", "ok", {"nodes": ["b2"]})


def _heal(h: History, fault: str) -> None:
    h.op("nemesis", f"stop-{fault}", None, "ok", {"nodes": ["b2"]})
    h.op("nemesis", "heal", None, "ok", [])


def _measured(test, h: History, tmp_path: Path, system: str):
    results = verdict({**test, "nemesis": ["kill"]}, h.events, tmp_path)
    return measure(system, "kill", test, results, pair(h.events), str(tmp_path))


def test_a_kafka_run_replays_what_was_consumed_and_counts_writes_outside_faults_only(tmp_path):
    h = History()
    h.assign(0, [0])
    h.send(1, 0, 10, 0)
    h.poll(0, {0: [(0, 10)]})
    _fault(h, "kill")
    h.send(1, 0, 11, 1)
    _heal(h, "kill")
    h.assign(2, [0])
    h.poll(2, {0: [(0, 10), (1, 11)]})
    kafka = _measured(KAFKA_TEST, h, tmp_path, "logquake")
    assert (kafka.acknowledged, kafka.lost, kafka.duplicates, kafka.ordering) == (2, 0, 0, 0)
    assert kafka.replayed == 1.0
    assert kafka.latency_p50_ms == 1.0, "only the send before the fault: one event, 1 ms, after its invoke"
    assert kafka.throughput_per_s is not None and kafka.verdict == "valid"


def test_a_rabbitmq_run_does_not_replay_and_its_loss_and_redelivery_are_counted(tmp_path):
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.dequeue(1, 1)
    _fault(h, "kill")
    h.enqueue(0, 2)
    h.enqueue(0, 3)
    h.dequeue(1, 2, "info")
    _heal(h, "kill")
    h.drain(1, [2])
    rabbit = _measured(AMQP_TEST, h, tmp_path, "rabbitmq")
    assert (rabbit.acknowledged, rabbit.lost, rabbit.duplicates, rabbit.ordering) == (3, 1, 1, 0)
    assert rabbit.replayed == 0.0 and rabbit.verdict == "invalid"
    assert rabbit.unavailable_max_s is not None and rabbit.never_recovered == 0

    text, markdown = as_text([rabbit]), as_markdown([rabbit])
    rows = dict(re.split(r"\s{2,}", line) for line in text.splitlines()[2:])
    assert rows["durability: acknowledged writes lost, kill"] == "1"
    assert rows["duplicates (read or delivered twice), all runs"] == "1"
    assert rows["ordering anomalies, all runs"] == "0"
    assert markdown.splitlines()[0] == "| claim | RabbitMQ 3.10 (quorum queue) |"


def test_compare_plans_both_systems_under_each_fault_and_refuses_an_unknown_one():
    runner = CliRunner()
    listed = runner.invoke(main, ["compare", "--faults", "kill,partition", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert [line.split(":")[0] for line in listed.output.splitlines()] == [
        "compare-logquake-kill", "compare-rabbitmq-kill", "compare-logquake-partition", "compare-rabbitmq-partition"]
    refused = runner.invoke(main, ["compare", "--faults", "kill,meteor", "--dry-run"])
    assert refused.exit_code == 2 and "unknown fault(s) meteor" in refused.output
