"""report.html from a run directory: verdict, anomalies with examples, stats, plots and links."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from logquake.report import ReportError, describe, write_report
from tests.checkers.histories import TEST, checked
from tests.checkers.test_run_checks import small_run
from tests.checkers.txn_histories import TXN_TEST, information_flow


def store_run(run_dir: Path, test: dict, lose_a_write: bool, **extra: object) -> None:
    history = small_run(lose_a_write).events
    run_dir.mkdir(parents=True)
    (run_dir / "test.json").write_text(json.dumps(test))
    (run_dir / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in history))
    results = checked(test, history, run_dir)
    (run_dir / "results.json").write_text(json.dumps({**results, **extra}))
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "b1.log").write_text("broker log\n")
    (run_dir / "linearizability.html").write_text("<html></html>")


def verdict(page: str) -> str:
    match = re.search(r"<p class='verdict (\w+)'>(.*?)</p>", page)
    assert match
    return f"{match[1]}: {match[2]}"


def test_an_invalid_run_shows_the_forbidden_anomaly_and_its_example(tmp_path: Path) -> None:
    store_run(tmp_path / "run", TEST, lose_a_write=True)
    page = write_report(tmp_path / "run").read_text()
    assert verdict(page) == "invalid: INVALID: anomalies the configuration forbids: 1 lost-write, 1 inconsistent-offsets"
    assert "<tr class='forbidden'><td>lost-write</td><td class='n'>1</td>" in page
    assert "lost-write: 1 of 1 shown" in page
    assert "value 11" in page and "send #" in page
    assert "acknowledged sends are never lost" in page


def test_a_valid_run_with_allowed_loss_says_so(tmp_path: Path) -> None:
    store_run(tmp_path / "run", {**TEST, "acks": "1"}, lose_a_write=True)
    page = write_report(tmp_path / "run").read_text()
    assert verdict(page) == ("valid: VALID: the configuration&#39;s claim held (allowed by the configuration: "
                             "1 lost-write, 1 inconsistent-offsets)")
    assert "<tr class='allowed'><td>lost-write</td>" in page


def test_a_dependency_cycle_is_shown_in_words_and_drawn(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    history = information_flow([(0, 2)]).events
    run_dir.mkdir()
    (run_dir / "test.json").write_text(json.dumps(TXN_TEST))
    (run_dir / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in history))
    (run_dir / "results.json").write_text(json.dumps(checked(TXN_TEST, history, run_dir)))
    page = write_report(run_dir).read_text()
    picture = re.search(r"<img class='cycle' src='([^']+)'", page)
    assert picture and (run_dir / picture[1]).read_text().startswith("<svg")
    assert re.search(r"<pre>G1c: a cycle of 2 transactions, .*\n  T\d -wr-&gt; T\d: ", page)


def test_the_report_embeds_plots_and_links_every_file(tmp_path: Path) -> None:
    store_run(tmp_path / "run", TEST, lose_a_write=False)
    page = write_report(tmp_path / "run").read_text()
    assert page.count("src='data:image/png;base64,") == 3
    for link in ("timeline.html", "history.jsonl", "results.json", "test.json", "logs/b1.log",
                 "linearizability.html"):
        assert f"<a href='{link}'>" in page
    assert "linearizability visualization" in page
    assert "<td>send</td><td class='n'>2</td>" in page


def test_interrupted_and_unknown_runs_say_why(tmp_path: Path) -> None:
    store_run(tmp_path / "run", TEST, lose_a_write=False, interrupted=True, valid="unknown",
              queue={"valid": "unknown", "error": "the checker's 'search' ran out of time"})
    page = write_report(tmp_path / "run").read_text()
    assert verdict(page) == ("unknown: UNKNOWN: queue: the checker&#39;s &#39;search&#39; ran out of time. "
                             "The run was INTERRUPTED: these are partial results")


def test_partial_results_of_a_run_that_failed_early_still_make_a_report(tmp_path: Path) -> None:
    (tmp_path / "test.json").write_text(json.dumps(TEST))
    (tmp_path / "results.json").write_text(json.dumps({"valid": "unknown", "interrupted": True,
                                                       "error": "cluster did not come up"}))
    page = write_report(tmp_path).read_text()
    assert verdict(page) == ("unknown: UNKNOWN: cluster did not come up. "
                             "The run was INTERRUPTED: these are partial results")


def test_a_run_directory_without_results_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "test.json").write_text("{}")
    with pytest.raises(ReportError, match="has no results.json"):
        write_report(tmp_path)
    (tmp_path / "results.json").write_text("[1")
    with pytest.raises(ReportError, match="results.json is not valid JSON"):
        write_report(tmp_path)


def test_examples_read_as_one_line() -> None:
    example = {"partition": 0, "offset": 1, "value": 11, "send": {"index": 3, "process": 0, "f": "send", "type": "ok"},
               "skipped_offsets": [1, 2]}
    assert describe(example) == "partition 0, offset 1, value 11, send #3 (process 0, ok), skipped offsets [1; 2]"
