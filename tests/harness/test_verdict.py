"""How a run's results become an exit code and the end-of-run summary."""

from __future__ import annotations

import pytest

from logquake.runner import exit_code, summary


@pytest.mark.parametrize("results, code", [
    ({"valid": True}, 0),
    ({"valid": False}, 1),
    ({"valid": "unknown"}, 2),
    ({"valid": True, "interrupted": True}, 2),
    ({}, 2),
])
def test_exit_codes_follow_jepsen(results, code):
    assert exit_code(results) == code


def test_summary_tables_outcomes_and_names_the_verdict_and_report(tmp_path):
    (tmp_path / "report.html").write_text("<html>")
    results = {"valid": False, "stats": {"by_f": {"send": {"ok": 10, "fail": 1, "info": 2}, "poll": {"ok": 5}}}}
    text = summary(results, tmp_path).splitlines()
    assert text[0].split() == ["op", "ok", "fail", "info"]
    assert text[2].split() == ["poll", "5", "0", "0"] and text[3].split() == ["send", "10", "1", "2"]
    assert text[-2:] == ["verdict: INVALID", f"report: {tmp_path / 'report.html'}"]


def test_summary_of_an_interrupted_run_says_why(tmp_path):
    text = summary({"valid": True, "interrupted": True, "problem": "interrupted by the user (SIGINT)"}, tmp_path)
    assert "verdict: VALID (partial: interrupted by the user (SIGINT))" in text
    assert f"report: {tmp_path}" in text  # no report.html yet: the run directory


def test_summary_says_why_under_the_verdict(tmp_path):
    reasons = [f"{n} lost-write: forbidden" for n in range(20)]
    results = {"valid": False, "queue": {"valid": False, "reasons": reasons}, "availability": {"reasons": []}}
    text = summary(results, tmp_path).splitlines()
    at = text.index("verdict: INVALID")
    assert text[at + 1:at + 13] == [f"  {reason}" for reason in reasons[:12]]
    assert text[at + 13] == "  ... and 8 more in results.json"
