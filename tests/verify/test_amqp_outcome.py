"""RabbitMQ cells judged by the AMQP claim: the total-queue checker's results on constructed histories, then the
outcome; and `logquake verify --system rabbitmq` choosing its matrix and refusing another system's."""

from __future__ import annotations

from click.testing import CliRunner

from checkers.total_queue import check_total_queue
from logquake.cli import main
from logquake.verify.outcome import BROKEN, SHOWN, UNSHOWN, run_outcome
from tests.checkers.test_total_queue import TEST, AmqpHistory


def _outcome(h: AmqpHistory):
    results = check_total_queue(TEST, h.events)
    return run_outcome(TEST, {"valid": results["valid"], "amqp": results})


def test_a_clean_quorum_run_has_not_shown_its_one_weakness_redelivery():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2, "info")
    h.enqueue(1, 3, "fail")
    h.drain(1, [1, 2, 3])
    judged = _outcome(h)
    assert judged.outcome == UNSHOWN and judged.possible == ("duplicated",)
    assert judged.allowed == {}, "recovered and nacked-delivered are outcomes of publishes, not weaknesses"


def test_a_redelivered_message_is_the_weakness_shown():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.dequeue(1, 1, "info")
    h.drain(1, [1])
    judged = _outcome(h)
    assert judged.outcome == SHOWN and judged.allowed == {"duplicated": 1}


def test_a_confirmed_message_lost_breaks_the_claim():
    h = AmqpHistory()
    h.enqueue(0, 1)
    h.enqueue(0, 2)
    h.drain(1, [1])
    judged = _outcome(h)
    assert judged.outcome == BROKEN and judged.forbidden == {"lost": 1}


def test_verify_for_rabbitmq_runs_its_own_matrix_and_refuses_another_systems():
    runner = CliRunner()
    listed = runner.invoke(main, ["verify", "--system", "rabbitmq", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    cells = [line for line in listed.output.splitlines() if line.startswith("queue_type=")]
    assert len(cells) == 27 and "queue_type=classic-mirrored partition_handling=autoheal / partition" in cells[-1]
    refused = runner.invoke(main, ["verify", "quick", "--system", "rabbitmq", "--dry-run"])
    assert refused.exit_code == 2 and "matrix quick deploys logquake, not rabbitmq" in refused.output
