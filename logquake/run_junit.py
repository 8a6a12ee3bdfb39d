"""`logquake run --junit FILE`: one run's verdict as a JUnit test case, for CI systems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logquake.junit import JUnitCase
from logquake.runner import verdict_reasons

CLASSNAME = "logquake.run"


def run_case(name: str, results: dict[str, Any], report: Path, time_s: float) -> JUnitCase:
    """Passed when valid; a failure with the verdict's reasons when invalid; an error when the run failed, was
    interrupted, or the checkers could not decide (JUnit's error: the test could not tell)."""
    reasons = verdict_reasons(results)
    details = "\n".join([*reasons, f"report: {report}"])
    if results.get("interrupted") or results.get("valid") not in (True, False):
        message = reasons[0] if reasons else "the checkers could not decide"
        return JUnitCase(name, CLASSNAME, time_s, "error", message, details)
    if results["valid"] is False:
        return JUnitCase(name, CLASSNAME, time_s, "failure", "; ".join(reasons) or "invalid", details)
    return JUnitCase(name, CLASSNAME, time_s, "passed")
