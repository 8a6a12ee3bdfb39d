"""JUnit XML: how CI systems (Jenkins, GitLab, GitHub Actions' reporters) read test results.

The shape is the one they all parse: <testsuites> holding one <testsuite> of <testcase>s, each
with at most one <failure>, <error> or <skipped> child. A failure is a test that ran and found
its claim false; an error is one that could not decide (JUnit's own distinction).
"""

from __future__ import annotations

import os
import re
import socket
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

CaseOutcome = Literal["passed", "failure", "error", "skipped"]
OUTCOMES: tuple[CaseOutcome, ...] = ("passed", "failure", "error", "skipped")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, escaped or not (a node log's NUL would make the file unreadable)."""


@dataclass(frozen=True)
class JUnitCase:
    name: str
    classname: str
    time_s: float
    outcome: CaseOutcome
    message: str = ""
    """One line: the failure's or error's reason, shown by CI systems beside the case's name."""
    details: str = ""
    """The whole story (reasons, where the report is), shown when the case is opened."""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")


def junit_xml(suite: str, cases: Sequence[JUnitCase]) -> str:
    """The document as text, with the counts CI systems read from the suite's attributes."""
    suite = _text(suite)
    counts = Counter(case.outcome for case in cases)
    total_time = f"{sum(case.time_s for case in cases):.3f}"
    root = ElementTree.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(counts["failure"]),
                               errors=str(counts["error"]), skipped=str(counts["skipped"]), time=total_time)
    testsuite = ElementTree.SubElement(
        root, "testsuite", name=suite, tests=str(len(cases)), failures=str(counts["failure"]),
        errors=str(counts["error"]), skipped=str(counts["skipped"]), time=total_time,
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"), hostname=socket.gethostname())
    for case in cases:
        element = ElementTree.SubElement(testsuite, "testcase", name=_text(case.name),
                                         classname=_text(case.classname), time=f"{case.time_s:.3f}")
        if case.outcome != "passed":
            child = ElementTree.SubElement(element, case.outcome, message=_one_line(case.message))
            if case.outcome != "skipped":
                child.set("type", case.outcome)
            child.text = _text(case.details) or None
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, suite: str, cases: Sequence[JUnitCase]) -> Path:
    """Writes the document whole or not at all (a CI step reading it never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(junit_xml(suite, cases), encoding="utf-8")
    os.replace(temporary, path)
    return path


def _text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _one_line(text: str) -> str:
    return " ".join(_text(text).split())
