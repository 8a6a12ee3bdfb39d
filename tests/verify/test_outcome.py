"""Cell outcomes from constructed results: each of the five, how runs combine, and the exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkers.compose import run_checks
from checkers.queue import ANOMALIES
from logquake.verify.outcome import (BROKEN, HOLDS, OUTCOMES, SHOWN, UNDECIDED, UNSHOWN, cell_outcome, exit_status,
                                     possible_anomalies, run_outcome)

SAFE = {"workload": "queue", "acks": "all", "idempotence": True, "broker_overrides": {}}
ACKS_1 = {"workload": "queue", "acks": "1", "idempotence": False, "retries": 0, "client": "kafka-python",
          "broker_overrides": {}}


def queue_results(valid: bool | str, forbidden: dict[str, int] | None = None,
                  allowed: dict[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    forbidden, allowed = forbidden or {}, allowed or {}
    anomalies = {name: {"count": forbidden.get(name, 0) + allowed.get(name, 0), "forbidden": forbidden.get(name, 0),
                        "allowed": allowed.get(name, 0)} for name in ANOMALIES}
    reasons = [f"{n} {name}: forbidden by this configuration" for name, n in forbidden.items()]
    return {"valid": valid, "queue": {"valid": valid, "reasons": reasons, "anomalies": anomalies, "claim": {}},
            **extra}


def test_a_safe_configuration_without_anomalies_holds() -> None:
    assert run_outcome(SAFE, queue_results(True)).outcome == HOLDS


def test_acks_1_allows_loss_and_showing_it_is_the_weakness_shown() -> None:
    shown = run_outcome(ACKS_1, queue_results(True, allowed={"lost-write": 4}))

    assert shown.outcome == SHOWN and shown.allowed == {"lost-write": 4}
    assert "lost-write" in shown.possible and "duplicate" not in shown.possible  # kafka-python, retries 0


def test_acks_1_without_loss_has_not_shown_its_weakness() -> None:
    assert run_outcome(ACKS_1, queue_results(True)).outcome == UNSHOWN


def test_unclean_election_allows_truncation_and_loss_even_under_acks_all() -> None:
    unclean = {**SAFE, "broker_overrides": {"unclean.leader.election.enable": "true"}}

    assert {"lost-write", "int-poll-skip"} <= set(possible_anomalies(unclean, queue_results(True)))
    assert possible_anomalies(SAFE, queue_results(True)) == ()


def test_a_failed_or_undecided_run_is_undecided_with_its_problem() -> None:
    interrupted = run_outcome(SAFE, queue_results(True, interrupted=True, problem="interrupted by the user (SIGINT)"))
    assert interrupted.outcome == UNDECIDED and interrupted.reasons[0] == "interrupted by the user (SIGINT)"
    assert run_outcome(SAFE, queue_results("unknown")).outcome == UNDECIDED


def test_a_linearizability_violation_is_a_weakness_only_after_a_power_loss_the_nodes_do_not_survive() -> None:
    register = {"workload": "register", "keeper_overrides": {"forceSync": "no"}}
    anomalies = {"nonlinearizable": {"count": 1, "forbidden": 1, "allowed": 0}}
    expected = {"valid": False, "register": {"valid": False, "anomalies": anomalies, "expected": ["forceSync=no"],
                                             "claim": {"durable_against_power_loss": False}}}
    assert run_outcome(register, expected).outcome == SHOWN
    unexpected = {"valid": False, "register": {"valid": False, "anomalies": anomalies, "claim": {}}}
    assert run_outcome(register, unexpected).outcome == BROKEN


def forced_false(test: dict[str, Any], history: list[Any], out_dir: Path) -> dict[str, Any]:
    """A checker double whose claim is false whatever happened: one forbidden lost write."""
    return queue_results(False, forbidden={"lost-write": 1})["queue"]


def test_a_claim_forced_false_breaks_the_cell_and_fails_verify(tmp_path: Path) -> None:
    results = run_checks(SAFE, [], tmp_path, "queue", forced_false)

    run = run_outcome(SAFE, results)

    assert run.outcome == BROKEN and run.forbidden == {"lost-write": 1}
    assert "1 lost-write: forbidden by this configuration" in run.reasons
    assert exit_status([HOLDS, cell_outcome([HOLDS, run.outcome])]) == 1


@pytest.mark.parametrize(("runs", "cell"), [
    ([HOLDS, HOLDS], HOLDS), ([HOLDS, BROKEN, UNDECIDED], BROKEN), ([UNSHOWN, SHOWN], SHOWN),
    ([SHOWN, UNDECIDED], SHOWN), ([HOLDS, UNDECIDED], UNDECIDED), ([UNSHOWN, UNSHOWN], UNSHOWN), ([], UNDECIDED)])
def test_runs_combine_into_the_cell(runs: list[str], cell: str) -> None:
    assert cell_outcome(runs) == cell


def test_only_outcomes_combine() -> None:
    with pytest.raises(ValueError, match="not outcomes: fine"):
        cell_outcome(["fine"])


@given(st.lists(st.sampled_from(OUTCOMES)), st.booleans())
def test_the_exit_status_is_1_for_a_broken_claim_else_2_for_an_undecided_cell(cells: list[str], strict: bool) -> None:
    status = exit_status(cells, fail_on_unshown=strict)

    if BROKEN in cells or (strict and UNSHOWN in cells):
        assert status == 1
    elif UNDECIDED in cells:
        assert status == 2
    else:
        assert status == 0 and set(cells) <= {HOLDS, SHOWN, UNSHOWN}
