"""JUnit XML as CI systems read it: parsed back, every case and its failure, error or skip is there."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logquake.junit import OUTCOMES, JUnitCase, junit_xml, write_junit


def test_cases_parse_back_with_their_outcomes_and_the_suite_counts(tmp_path: Path) -> None:
    cases = [JUnitCase("acks=all kill", "verify.quick", 12.5, "passed"),
             JUnitCase("acks=1 kill", "verify.quick", 3.0, "failure", "3 lost-write: forbidden",
                       "3 lost-write: forbidden\nreport: store/x/report.html"),
             JUnitCase("acks=1 pause", "verify.quick", 1.0, "error", "the run failed"),
             JUnitCase("acks=0 pause", "verify.quick", 0.0, "skipped", "not run")]

    path = write_junit(tmp_path / "out" / "junit.xml", "verify quick", cases)

    root = ElementTree.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    counts = [suite.get(name) for name in ("tests", "failures", "errors", "skipped")]
    assert counts == ["4", "1", "1", "1"]
    parsed = suite.findall("testcase")
    assert [case.get("name") for case in parsed] == [case.name for case in cases]
    assert list(parsed[0]) == []
    failure = parsed[1].find("failure")
    assert failure is not None and failure.get("message") == "3 lost-write: forbidden"
    assert "report: store/x/report.html" in (failure.text or "")
    assert parsed[2].find("error") is not None and parsed[3].find("skipped") is not None
    assert float(parsed[0].get("time") or 0) == 12.5


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome must be one of"):
        JUnitCase("x", "y", 0.0, "flaky")  # type: ignore[arg-type]


@given(st.text(), st.text(), st.text(), st.sampled_from(OUTCOMES))
def test_any_text_gives_a_document_that_parses(name: str, message: str, details: str, outcome: str) -> None:
    document = junit_xml("suite", [JUnitCase(name, "cls", 1.0, outcome, message, details)])  # type: ignore[arg-type]

    (case,) = ElementTree.fromstring(document.split("\n", 1)[1]).iter("testcase")
    assert len(case.get("name") or "") == len(name)  # unreadable characters replaced one for one
    assert (case.find(outcome) is not None) == (outcome != "passed")
